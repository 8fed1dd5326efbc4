"""Item analysis and essay grading at /author/<course>/analysis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEvent
from learning.extensions import db
from learning.progress.models import CompletionRecord, ModuleProgress, Statement
from learning.quizzes.models import EssayGrade, QuizAttempt
from tests.conftest import PASSWORD, csrf_from, write_course

ESSAY_COURSE = {
    "course.yaml": """
        title: {en: "Essays"}
        languages: [en]
        completion: {modules: all, quizzes: all}
        quiz: {passing_score: 60, max_attempts: 5, shuffle: false, show_answers: after_submit}
        """,
    "01-reflect.en.md": """
        ---
        title: "Reflect"
        ---

        Think about a conversation at the desk.

        ```quiz
        ::Greeting:: Which greeting is respectful? {
          =Greet the citizen in their language
          ~Wave from afar
          ~Say nothing
        }

        ::Reflect:: Describe a time you adapted your language to a citizen. {}

        ::Sky:: The sky is blue. {T}
        ```
        """,
}


def learner_client(app, make_user, email=None):
    _, email = make_user("learner", language="en", email=email)
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def take_quiz(client, course, module, answers: dict[str, str], read=False) -> str:
    """Start and submit an attempt with `answers` ({"q0": "1", …}); returns its token."""
    page = client.get(f"/courses/{course}/{module}").get_data(as_text=True)
    if read:
        client.post(f"/courses/{course}/{module}/read", data={"csrf_token": csrf_from(page), "position": "1"})
    response = client.post(f"/courses/{course}/{module}/quiz/start", data={"csrf_token": csrf_from(page)})
    url = response.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    token = url.rstrip("/").split("/")[-1]
    response = client.post(url, data={"csrf_token": csrf_from(html), "attempt": token, **answers})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return token


@pytest.fixture
def essay_course(app):
    from learning.content.services import sync_library

    root = Path(app.config["COURSES_DIR"])
    write_course(root, "essays", ESSAY_COURSE)
    with app.app_context():
        assert [o.status for o in sync_library(root)] == ["created"]
    return "essays"


def test_item_analysis_counts_distractors_discrimination_and_flags(app, client, login_as, make_user, sample_course):
    # sample quiz: q0 multiple choice (0 = right), q1 true/false (true is right); nobody gets q1 right
    for answers in ({"q0": "0", "q1": "false"}, {"q0": "0", "q1": "false"}, {"q0": "1", "q1": "false"},
                    {"q0": "1"}):
        take_quiz(learner_client(app, make_user), "sample", "02-check", answers)
    login_as("trainer", language="en")
    response = client.get("/author/sample/analysis")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 attempts" in html and "groups of 1" in html
    rows = re.findall(r"<tr class=\"(?:flagged)?\">(.*?)</tr>", html, re.S)
    language, sky = rows
    assert "A citizen speaks Kazakh" in language
    cells = re.findall(r"<td[^>]*>(.*?)</td>", language, re.S)
    assert cells[2].strip() == "4" and "50%" in cells[3]
    assert cells[5].strip().startswith("1.00")  # the best attempt got it right, the worst did not
    chosen = re.findall(r"<li>(.*?)<strong>(\d+)</strong></li>", cells[6], re.S)
    assert [(" ".join(re.sub(r"<[^>]+>", " ", label).split()), n) for label, n in chosen] == [
        ("Answer in Kazakh ✓ earns credit", "2"), ("Switch to English", "2")]
    assert "Nobody got it right" in sky and "not answered: 1" in sky
    assert "Nobody got 1 question right" in html
    # the same numbers for "all revisions"; an unknown revision is a 404
    assert "4 attempts" in client.get("/author/sample/analysis?revision=all").get_data(as_text=True)
    assert client.get("/author/sample/analysis?revision=9").status_code == 404


def test_grading_an_essay_regrades_the_attempt_and_completes_the_course(app, client, login_as, make_user, essay_course):
    learner = learner_client(app, make_user, email="writer@example.kz")
    token = take_quiz(learner, "essays", "01-reflect",
                      {"q0": "0", "q1": "I switched to Kazakh and slowed down.", "q2": "true"}, read=True)
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        assert attempt.has_pending and not attempt.is_passed and attempt.score == 100
        attempt_id = attempt.id
    trainer_id, _ = login_as("trainer", language="en")
    page = client.get("/author/essays/analysis").get_data(as_text=True)
    assert "Essays awaiting grading" in page and "I switched to Kazakh and slowed down." in page
    assert "writer@example.kz" in page
    key = f"g{attempt_id}-1"
    url = f"/author/essays/analysis/essays/{attempt_id}/1"

    response = client.post(url, data={"csrf_token": csrf_from(page), f"{key}-score": "40",
                                      f"{key}-comment": "Good start; give an example."})
    assert response.status_code == 302
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert not attempt.has_pending and attempt.is_passed and attempt.score == 80.0
        assert attempt.results[1]["score"] == 0.4 and "Good start; give an example." in attempt.results[1]["feedback"]
        progress = db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == "01-reflect"))
        assert progress.is_quiz_passed and progress.status == "completed" and progress.best_score == 80.0
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Statement.seq)).where(Statement.verb == "passed")) == 1

    # the learner sees the score, the pass and the trainer's comment
    result = learner.get(f"/courses/essays/01-reflect/quiz/{token}/result").get_data(as_text=True)
    assert "Good start; give an example." in result and "Passed." in result

    # a regrade keeps the earlier grade: both are listed, the last counts
    page = client.get("/author/essays/analysis").get_data(as_text=True)
    assert "No essays are waiting." in page
    response = client.post(url, data={"csrf_token": csrf_from(page), f"{key}-score": "10", f"{key}-comment": ""})
    assert response.status_code == 302
    page = client.get("/author/essays/analysis").get_data(as_text=True)
    history = page.split("Grades, oldest first")[1].split("</table>")[0]
    assert history.index("40%") < history.index("10%") and "Good start; give an example." in history
    with app.app_context():
        grades = list(db.session.scalars(sa.select(EssayGrade).order_by(EssayGrade.id)))
        assert [(g.score, g.graded_by_id) for g in grades] == [(40.0, trainer_id), (10.0, trainer_id)]
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.score == 70.0 and attempt.is_passed
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "essay.grade")
                                         .order_by(AuditEvent.id)))
        assert [e.details["score"] for e in events] == [40.0, 10.0]
        assert events[1].details["previous_score"] == 40.0 and events[1].actor_id == trainer_id
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
    # the learner's result follows the latest grade (which has no comment)
    result = learner.get(f"/courses/essays/01-reflect/quiz/{token}/result").get_data(as_text=True)
    assert "Good start; give an example." not in result and "Passed." in result


def test_grades_are_append_only(app, client, login_as, make_user, essay_course):
    learner = learner_client(app, make_user)
    take_quiz(learner, "essays", "01-reflect", {"q0": "1", "q1": "Essay.", "q2": "false"})
    login_as("trainer", language="en")
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        page = client.get("/author/essays/analysis").get_data(as_text=True)
        key = f"g{attempt.id}-1"
        client.post(f"/author/essays/analysis/essays/{attempt.id}/1",
                    data={"csrf_token": csrf_from(page), f"{key}-score": "100"})
        grade = db.session.scalar(sa.select(EssayGrade))
        grade.score = 0
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(sa.select(EssayGrade)))
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert attempt.score == pytest.approx(33.33) and not attempt.is_passed and not attempt.has_pending


@pytest.mark.parametrize(("score", "status"), [("101", 422), ("-1", 422), ("abc", 422), ("NaN", 422), ("", 422)])
def test_bad_grades_are_refused(app, client, login_as, make_user, essay_course, score, status):
    take_quiz(learner_client(app, make_user), "essays", "01-reflect", {"q0": "0", "q1": "Essay.", "q2": "true"})
    login_as("trainer", language="en")
    page = client.get("/author/essays/analysis").get_data(as_text=True)
    with app.app_context():
        attempt_id = db.session.scalar(sa.select(QuizAttempt.id))
    key = f"g{attempt_id}-1"
    response = client.post(f"/author/essays/analysis/essays/{attempt_id}/1",
                           data={"csrf_token": csrf_from(page), f"{key}-score": score})
    assert response.status_code == status
    assert "Enter a number from 0 to 100." in response.get_data(as_text=True)
    nul = client.post(f"/author/essays/analysis/essays/{attempt_id}/1",
                      data={"csrf_token": csrf_from(page), f"{key}-score": "50", f"{key}-comment": "a\x00b"})
    # refused for the whole site before any view runs (PostgreSQL cannot store NUL)
    assert nul.status_code == 400 and "not allowed" in nul.get_data(as_text=True)
    # not an essay, not in the attempt, not this course's attempt: 404
    assert client.post(f"/author/essays/analysis/essays/{attempt_id}/0",
                       data={"csrf_token": csrf_from(page), f"g{attempt_id}-0-score": "50"}).status_code == 404
    assert client.post(f"/author/essays/analysis/essays/{attempt_id}/7",
                       data={"csrf_token": csrf_from(page)}).status_code == 404
    assert client.post(f"/author/essays/analysis/essays/{attempt_id + 100}/1",
                       data={"csrf_token": csrf_from(page)}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EssayGrade.id))) == 0
        assert db.session.scalar(sa.select(QuizAttempt.has_pending))


def test_an_unanswered_essay_is_not_offered_for_grading(app, client, login_as, make_user, essay_course):
    take_quiz(learner_client(app, make_user), "essays", "01-reflect", {"q0": "0", "q2": "true"})
    login_as("trainer", language="en")
    page = client.get("/author/essays/analysis").get_data(as_text=True)
    assert "No essays are waiting." in page
    with app.app_context():
        attempt_id = db.session.scalar(sa.select(QuizAttempt.id))
    response = client.post(f"/author/essays/analysis/essays/{attempt_id}/1",
                           data={"csrf_token": csrf_from(page), f"g{attempt_id}-1-score": "50"})
    assert response.status_code == 400
    assert "did not answer this question" in response.get_data(as_text=True)
