"""The quiz submission's fast paths: the attempt's questions recognised in the column's text
without parsing them, the writes as prepared statements in one transaction (nothing kept on an
error), and the Session path a completing submission takes."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from learning.extensions import db
from learning.progress.models import Enrollment, ModuleProgress, Statement
from learning.quizzes import services
from learning.quizzes.models import QuizAttempt
from tests.conftest import csrf_from
from tests.web.test_quizzes import answers_for, read_both_modules, start_quiz


def _attempt(app, url):
    token = url.rsplit("/", 1)[-1]
    with app.app_context():
        return db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))


def test_the_questions_text_is_read_as_the_parsed_questions(app, client, login_as, sample_course):
    login_as("learner", language="en")
    url, _html = start_quiz(client)
    attempt = _attempt(app, url)
    with app.app_context():
        plan = services.quiz_plan(attempt.revision_id, attempt.module_slug, attempt.language)
        # The questions as drawn (keys in draw_questions' order) and the text the column
        # stores for them.
        drawn_as_written = [{**plan.pool[q["source_index"]], "source_index": q["source_index"],
                             "answer_order": q["answer_order"], "match_options": q["match_options"]}
                            for q in attempt.questions]
        assert drawn_as_written == attempt.questions
        text = json.dumps(drawn_as_written)
        fast = services._drawn_from_text(plan, text)
        assert fast is not None
        drawn, questions = fast
        assert questions == services.attempt_questions(plan, attempt.questions)
        assert [d["match_options"] for d in drawn] == [q["match_options"] for q in attempt.questions]
        assert services.drawn_questions(plan, text) == fast

        changed = copy.deepcopy(drawn_as_written)
        changed[0]["answers"][0]["fraction"] = 1.0 - changed[0]["answers"][0]["fraction"]
        changed_text = json.dumps(changed)
        assert services._drawn_from_text(plan, changed_text) is None  # not the pool's: parsed
        stored, read = services.drawn_questions(plan, changed_text)
        assert stored == changed and read == services.attempt_questions(plan, changed)
        for broken in ("[]", "", text[:-1], text.replace('"answer_order"', '"answer_orders"'),
                       text[:-1] + ', {"type": "description"}]'):
            assert services._drawn_from_text(plan, broken) is None


def test_the_submission_reads_the_stored_text_and_recognises_it_on_either_database(
        app, client, login_as, sample_course):
    # The column keeps the JSON as written (PostgreSQL's json, not jsonb): the submission's
    # query reads it as text, and the text is the plan's questions, recognised unparsed.
    user_id, _email = login_as("learner", language="en")
    url, _html = start_quiz(client)
    attempt = _attempt(app, url)
    with app.test_request_context("/"):
        row = services._LOAD_SUBMISSION.first(user_id=user_id, token=attempt.token, slug="sample")
        assert isinstance(row.questions, str)
        plan = services.quiz_plan(attempt.revision_id, attempt.module_slug, attempt.language)
        fast = services._drawn_from_text(plan, row.questions)
        assert fast is not None and fast[1] == services.attempt_questions(plan, attempt.questions)


def test_an_error_while_writing_keeps_nothing(app, client, login_as, sample_course, monkeypatch):
    from learning.progress import services as progress

    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)}

    def fail(*_args, **_kwargs):
        raise RuntimeError("the course could not be updated")

    # The last step, after the claim, the progress and the statement are written (as three
    # statements, or one on PostgreSQL).
    monkeypatch.setattr(progress, "prepared_course_after_quiz", fail)
    assert client.post(url, data=data).status_code == 500
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == url.rsplit("/", 1)[-1]))
        assert attempt.submitted_at is None and attempt.results is None  # the claim is undone
        assert db.session.scalar(sa.select(sa.func.max(ModuleProgress.attempts))) in (None, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)
                                 .where(Statement.verb.in_(["passed", "failed"]))) == 0

    monkeypatch.undo()
    assert client.post(url, data=data).status_code == 303  # and it can be submitted again
    with app.app_context():
        progress = db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == "02-check"))
        assert progress.attempts == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)
                                 .where(Statement.verb == "failed")) == 1


@pytest.mark.parametrize("completes", [False, True])
def test_only_a_completing_submission_uses_the_session(app, client, login_as, sample_course, monkeypatch,
                                                       completes):
    login_as("learner", language="en")
    if completes:  # both modules read: the passed quiz then completes the course
        read_both_modules(client)
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)}
    calls = []
    original = services.store_submission_in_session
    monkeypatch.setattr(services, "store_submission_in_session",
                        lambda *args: calls.append(1) or original(*args))
    assert client.post(url, data=data).status_code == 303
    assert len(calls) == (1 if completes else 0)
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert attempt.is_passed and attempt.submitted_at is not None
        enrollment = db.session.scalar(sa.select(Enrollment))
        assert (enrollment.completed_at is not None) == completes
        assert enrollment.last_module_slug == "02-check"
        assert enrollment.percent_complete == (100 if completes else 33)  # 1 of 2 modules + 1 quiz
        row = db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == "02-check"))
        assert (row.attempts, row.best_score, row.is_quiz_passed) == (1, 100, True)
        assert row.status == ("completed" if completes else "in_progress")
        verbs = [s.verb for s in db.session.scalars(sa.select(Statement).order_by(Statement.seq))]
        assert verbs.count("passed") == 1
        assert verbs.count("completed") == (1 if completes else 0)


def test_postgresql_writes_claim_progress_and_statement_in_one_statement(
        app, client, login_as, sample_course, statements):
    ran = statements
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)}
    ran.clear()
    assert client.post(url, data=data).status_code == 303
    writes = [sql.lstrip() for sql in ran if not sql.lstrip().upper().startswith("SELECT")]
    with app.app_context():
        dialect = db.engine.dialect.name
        assert db.session.scalar(sa.select(ModuleProgress.attempts)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)
                                 .where(Statement.verb == "failed")) == 1
    if dialect == "postgresql":
        assert writes[0].startswith("WITH claim AS") and "INSERT INTO statements" in writes[0]
        assert all("quiz_attempts" not in sql and "INTO statements" not in sql
                   for sql in writes[1:])
    else:
        assert [sql.split()[0] for sql in writes[:3]] == ["UPDATE", "INSERT", "INSERT"]
