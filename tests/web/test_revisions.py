"""Revisions: learners stay on the revision they started; time limits; drawing from a pool."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from learning.content.models import CourseRevision
from learning.content.services import sync_library
from learning.db import utcnow
from learning.extensions import db
from learning.quizzes.models import QuizAttempt
from tests.conftest import SAMPLE_COURSE, csrf_from, write_course
from tests.web.test_quizzes import answers_for, start_quiz


def publish_change(app, text: str) -> None:
    root = Path(app.config["COURSES_DIR"])
    files = dict(SAMPLE_COURSE)
    files["01-welcome.en.md"] = SAMPLE_COURSE["01-welcome.en.md"].replace("Intro paragraph.", text)
    write_course(root, files=files)
    with app.app_context():
        assert sync_library(root)[0].status == "updated"


def test_unchanged_sync_stores_no_revision(app, sample_course):
    with app.app_context():
        assert sync_library(Path(app.config["COURSES_DIR"]))[0].status == "unchanged"
        assert db.session.scalar(sa.select(sa.func.count(CourseRevision.id))) == 1


def test_learner_keeps_their_revision_until_they_switch(app, client, login_as, sample_course):
    login_as("learner", language="en")
    assert "Intro paragraph." in client.get("/courses/sample/01-welcome").get_data(as_text=True)
    publish_change(app, "Brand new introduction.")
    page = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    assert "Intro paragraph." in page and "Brand new introduction." not in page
    course_page = client.get("/courses/sample").get_data(as_text=True)
    assert "A new version of this course has been published" in course_page
    client.post("/courses/sample/switch", data={"csrf_token": csrf_from(course_page)})
    assert "Brand new introduction." in client.get("/courses/sample/01-welcome").get_data(as_text=True)
    # a new learner starts on the newest revision straight away
    login_as("learner", language="en")
    assert "Brand new introduction." in client.get("/courses/sample/01-welcome").get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(sa.select(CourseRevision).where(CourseRevision.number == 1))
        assert first.structure["slug"] == "sample"  # earlier revisions stay readable


def test_late_submission_is_graded_as_of_the_deadline(app, client, login_as):
    root = Path(app.config["COURSES_DIR"])
    timed = SAMPLE_COURSE["course.yaml"].replace("shuffle: false", "shuffle: false, time_limit_minutes: 10")
    write_course(root, files=SAMPLE_COURSE | {"course.yaml": timed})
    with app.app_context():
        sync_library(root)
    login_as("learner", language="en")
    url, html = start_quiz(client)
    assert "data-deadline" in html
    token = url.rsplit("/", 1)[-1]
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        deadline = utcnow() - timedelta(minutes=5)
        attempt.started_at, attempt.deadline_at = deadline - timedelta(minutes=10), deadline
        db.session.commit()
    response = client.post(url, data=answers_for(app, url) | {"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        assert attempt.submitted_at == attempt.deadline_at
        assert attempt.score == 0  # answers sent after the deadline do not count


def test_draw_takes_n_questions_from_the_category_pool(app, client, login_as):
    root = Path(app.config["COURSES_DIR"])
    pool = "\n\n".join(
        f"$CATEGORY: {'a' if i % 2 else 'b'}\n::Q{i}:: Question {i}? {{T}}" for i in range(10))
    module = f"---\ntitle: Pool\nquiz: {{draw: 3, categories: [a]}}\n---\n\nText.\n\n```quiz\n{pool}\n```\n"
    write_course(root, files={"course.yaml": SAMPLE_COURSE["course.yaml"], "01-welcome.en.md":
                              SAMPLE_COURSE["01-welcome.en.md"], "01-welcome.ru.md":
                              SAMPLE_COURSE["01-welcome.ru.md"], "02-check.en.md": module})
    with app.app_context():
        assert sync_library(root)[0].status == "created"
    login_as("learner", language="en")
    url, html = start_quiz(client)
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert len(attempt.questions) == 3
        assert {q["category"] for q in attempt.questions} == {"a"}
