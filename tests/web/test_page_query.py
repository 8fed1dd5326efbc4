"""The lesson page reads its course, enrolment and progress in the statement that checks the
session user (learning.accounts.services.PageQuery): one round trip, and nothing of the page
read for a login that is not live."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from learning.extensions import db
from learning.progress.queries import LESSON_PAGE
from tests.conftest import csrf_from


def _reads(ran: list[str]) -> list[str]:
    return [sql for sql in ran if sql.lstrip().upper().startswith("SELECT")]


def test_the_lesson_page_reads_user_and_page_in_one_statement(app, client, login_as, sample_course, statements):
    login_as("learner", language="en")
    assert client.get("/courses/sample/01-welcome").status_code == 200  # enrols on the first visit
    statements.clear()
    page = client.get("/courses/sample/01-welcome")
    assert page.status_code == 200 and "Know the course" in page.get_data(as_text=True)
    reads = _reads(statements)
    assert len(reads) == 1, reads
    assert "auth_sessions" in reads[0] and "module_progress" in reads[0] and "courses" in reads[0]
    # A module with a quiz: on the first visit its attempts are read on their own (no progress
    # row yet to read them with), then with the rest.
    statements.clear()
    quiz = client.get("/courses/sample/02-check")
    assert quiz.status_code == 200 and "Read this, then answer." in quiz.get_data(as_text=True)
    reads = _reads(statements)
    assert len([sql for sql in reads if "auth_sessions" in sql or "FROM courses" in sql]) == 1, reads
    assert len(reads) == 2 and "quiz_attempts" in reads[1], reads
    statements.clear()
    quiz = client.get("/courses/sample/02-check")
    assert quiz.status_code == 200 and _reads(statements) == reads[:1]


def test_the_quiz_box_lists_the_attempts_read_with_the_page(app, client, login_as, sample_course,
                                                            statements):
    from tests.web.test_quizzes import answers_for, start_quiz

    login_as("learner", language="en")
    client.get("/courses/sample/01-welcome")
    url, html = start_quiz(client)
    assert client.post(url, data=answers_for(app, url, correct=False)
                       | {"csrf_token": csrf_from(html)}).status_code == 303
    second_url, _html = start_quiz(client)  # one submitted, one open
    statements.clear()
    page = client.get("/courses/sample/02-check")
    assert page.status_code == 200
    reads = _reads(statements)
    assert len(reads) == 1 and "quiz_attempts" in reads[0], reads
    text = page.get_data(as_text=True)
    assert second_url.rsplit("/", 1)[-1] in text  # the open attempt, to continue


def test_an_unknown_course_or_module_is_a_404_and_a_long_slug_reads_the_user_alone(
        app, client, login_as, sample_course, statements):
    login_as("learner", language="en")
    assert client.get("/courses/no-such-course/01-welcome").status_code == 404
    assert len(_reads(statements)) == 1
    assert client.get("/courses/sample/no-such-module").status_code == 404
    statements.clear()
    long_slug = "x" * 300
    assert client.get(f"/courses/{long_slug}/01-welcome").status_code == 404
    reads = _reads(statements)
    assert len(reads) == 1 and "module_progress" not in reads[0]  # the user only, no page query


def test_a_login_that_is_not_live_reads_nothing_of_the_page(app, client, login_as, sample_course, statements):
    user_id, _email = login_as("learner", language="en")
    assert client.get("/courses/sample/01-welcome").status_code == 200
    with app.app_context():
        db.session.execute(sa.text("UPDATE auth_sessions SET revoked_at = CURRENT_TIMESTAMP"))
        db.session.commit()
    statements.clear()
    response = client.get("/courses/sample/01-welcome")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert len(_reads(statements)) == 1
    assert not [sql for sql in statements if "INSERT" in sql.upper()]  # no visit written


def test_rows_are_given_only_for_the_parameters_they_were_read_with(app, client, login_as, sample_course):
    user_id, _email = login_as("learner", language="en")
    client.get("/courses/sample/01-welcome")
    with app.test_request_context("/courses/sample/01-welcome"):
        from learning.accounts import services

        with app.app_context():
            session_id = db.session.scalar(sa.text("SELECT id FROM auth_sessions"))
        user = LESSON_PAGE.load(user_id, session_id, {"slug": "sample", "module_slug": "01-welcome"})
        assert user is not None and user.id == user_id
        rows = LESSON_PAGE.rows(slug="sample", user_id=user_id, module_slug="01-welcome")
        assert rows and {row.progress_module_slug for row in rows} == {"01-welcome"}
        assert LESSON_PAGE.rows(slug="other", user_id=user_id, module_slug="01-welcome") is None
        assert LESSON_PAGE.rows(slug="sample", user_id=user_id + 1, module_slug="01-welcome") is None
        assert LESSON_PAGE.rows(slug="sample", user_id=user_id, module_slug="02-check") is None
        assert LESSON_PAGE.load(user_id, "not-a-session",
                                {"slug": "sample", "module_slug": "01-welcome"}) is None
        assert services.load_session_user(str(user_id), None) is None


def test_a_quiz_submission_reads_user_enrolment_and_attempt_in_one_statement(
        app, client, login_as, sample_course, statements):
    login_as("learner", language="en")
    client.get("/courses/sample/01-welcome")
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    start = client.post("/courses/sample/02-check/quiz/start", data={"csrf_token": csrf_from(page)})
    assert start.status_code == 302
    form_page = client.get(start.headers["Location"]).get_data(as_text=True)
    token = start.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    statements.clear()
    fields = {name: "0" for name in set(re.findall(r'name="(q\d+)"', form_page))}
    submitted = client.post(start.headers["Location"], data={
        **fields, "csrf_token": csrf_from(form_page), "attempt": token, "submit": "1"})
    assert submitted.status_code == 303
    reads = [sql for sql in _reads(statements) if "auth_sessions" in sql or "quiz_attempts.token" in sql]
    assert len(reads) == 1 and "auth_sessions" in reads[0] and "quiz_attempts" in reads[0], reads
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM quiz_attempts WHERE submitted_at IS NOT NULL")) == 1


@pytest.fixture
def sessions_opened(app, monkeypatch):
    """How many ORM Sessions the scoped session created."""
    opened = []
    registry = db.session.registry
    create = registry.createfunc

    def counting():
        opened.append(1)
        return create()

    monkeypatch.setattr(registry, "createfunc", counting)
    return opened


def test_the_lesson_page_opens_no_orm_session(app, client, login_as, sample_course, sessions_opened):
    login_as("learner", language="en")
    assert client.get("/courses/sample/01-welcome").status_code == 200  # enrols: the Session writes
    assert sessions_opened
    sessions_opened.clear()
    page = client.get("/courses/sample/01-welcome")
    assert page.status_code == 200 and "Learner" in page.get_data(as_text=True)
    assert sessions_opened == []


def test_a_session_user_read_before_the_session_joins_it_when_it_opens(app, make_user):
    from sqlalchemy.orm.exc import DetachedInstanceError

    from learning.accounts.models import User
    from learning.db import RowLoader

    user_id, _email = make_user("learner", name="Before")
    loader = RowLoader(User)
    with app.test_request_context("/"):
        with db.engine.connect() as connection:
            row = connection.execute(sa.select(*loader.columns()).where(User.id == user_id)).one()
        user = loader.load_when_needed(db.session, row)
        assert not db.session.registry.has()  # no Session yet
        assert user.name == "Before" and user.id == user_id  # columns read as loaded
        with pytest.raises(DetachedInstanceError):
            user.org_unit  # a relationship cannot load without the Session: loudly, not wrongly
        user.name = "After"  # changed while waiting: flushed once attached
        assert db.session.get(User, user_id) is user  # opening the Session attached it
        assert db.session.registry.has()
        db.session.commit()
        assert user.org_unit.path  # loads now
    with app.app_context():
        assert db.session.get(User, user_id).name == "After"


def test_a_session_user_read_after_the_session_opened_is_attached_at_once(app, make_user):
    from learning.accounts.models import User
    from learning.db import RowLoader

    user_id, _email = make_user("learner")
    loader = RowLoader(User)
    with app.test_request_context("/"):
        session = db.session()
        with db.engine.connect() as connection:
            row = connection.execute(sa.select(*loader.columns()).where(User.id == user_id)).one()
        user = loader.load_when_needed(db.session, row)
        assert user in session and user.org_unit.path


def test_a_module_slug_longer_than_a_course_slug_opens(app, client, login_as):
    # Module slugs may be up to 120 characters, course slugs up to 100.
    from pathlib import Path

    from learning.content.services import sync_library
    from tests.conftest import SAMPLE_COURSE, write_course

    long_name = "01-" + "w" * 107  # 110 characters
    files = {("course.yaml" if name == "course.yaml" else name.replace("01-welcome", long_name)): text
             for name, text in SAMPLE_COURSE.items()}
    write_course(Path(app.config["COURSES_DIR"]), files=files)
    with app.app_context():
        assert [o.status for o in sync_library(Path(app.config["COURSES_DIR"]))] == ["created"]
    login_as("learner", language="en")
    assert client.get(f"/courses/sample/{long_name}").status_code == 200  # enrols
    page = client.get(f"/courses/sample/{long_name}")
    assert page.status_code == 200 and "Know the course" in page.get_data(as_text=True)
    assert client.get(f"/courses/sample/{'x' * 121}").status_code == 404
