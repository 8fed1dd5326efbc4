"""Taking quizzes: no answers leaked, server-side grading, attempt rules, bad input."""

from __future__ import annotations

import copy
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.accounts.models import User
from learning.extensions import db
from learning.progress.models import ModuleProgress, Statement
from learning.quizzes.models import QuizAttempt
from tests.conftest import csrf_from


def start_quiz(client, module="02-check"):
    page = client.get(f"/courses/sample/{module}").get_data(as_text=True)
    response = client.post(f"/courses/sample/{module}/quiz/start", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.status_code
    url = response.headers["Location"]
    return url, client.get(url).get_data(as_text=True)


def answers_for(app, url, correct=True):
    """Form data answering every question of the attempt at `url` (right or wrong)."""
    token = url.rstrip("/").split("/")[-1]
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        data = {"attempt": token}
        for i, q in enumerate(attempt.questions):
            if q["type"] == "multiple_choice":
                best = max(range(len(q["answers"])), key=lambda k: q["answers"][k]["fraction"])
                worst = min(range(len(q["answers"])), key=lambda k: q["answers"][k]["fraction"])
                data[f"q{i}"] = str(best if correct else worst)
            elif q["type"] == "true_false":
                right = next(a["text"] for a in q["answers"] if a["fraction"] > 0)
                data[f"q{i}"] = right if correct else ("false" if right == "true" else "true")
        return data


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.answer_inputs: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if re.fullmatch(r"q\d+(_\d+)?", attributes.get("name") or ""):
            self.answer_inputs.append(attributes)

    def handle_data(self, data):
        self.text.append(data)


def test_quiz_page_never_contains_answers_feedback_or_weights(client, login_as, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    parsed = _Collector()
    parsed.feed(html)
    text = " ".join(parsed.text)
    assert "A citizen speaks Kazakh" in text
    assert "Answer in Kazakh" in text  # the options are shown…
    assert "Right." not in html and "#Right" not in html  # …but never their feedback
    assert "fraction" not in html and "correct" not in html.lower().replace("incorrect", "")
    assert len(parsed.answer_inputs) == 4  # two options, true and false
    for attributes in parsed.answer_inputs:
        # only a name, an id, a type and an index: nothing marks the right answer
        assert set(attributes) <= {"type", "id", "name", "value"}
        assert re.fullmatch(r"\d+|true|false", attributes["value"])


def read_both_modules(client) -> None:
    """Read the sample course's two modules to their end (the quiz then completes the course)."""
    page = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": csrf_from(page), "position": "2"})
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    client.post("/courses/sample/02-check/read", data={"csrf_token": csrf_from(page), "position": "1"})


def test_passing_the_quiz_and_reading_completes_the_course(app, client, login_as, sample_course):
    user_id, _ = login_as("learner", language="en")
    read_both_modules(client)
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)}
    response = client.post(url, data=data)
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Passed." in result and "100%" in result
    assert "Right." in result  # show_answers: after_submit reveals feedback after submission
    course_page = client.get("/courses/sample").get_data(as_text=True)
    assert "You completed this course." in course_page
    with app.app_context():
        verbs = set(db.session.scalars(sa.select(Statement.verb).where(Statement.user_id == user_id)))
        assert {"registered", "experienced", "attempted", "passed", "completed"} <= verbs


def test_failing_shows_score_and_uses_an_attempt(app, client, login_as, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    response = client.post(url, data=answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)})
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not passed." in result and "0%" in result


def test_attempt_limit_is_enforced(app, client, login_as, sample_course):
    login_as("learner", language="en")
    for _ in range(2):  # max_attempts: 2 in the sample course
        url, html = start_quiz(client)
        client.post(url, data=answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)})
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    assert "used all your attempts" in page
    response = client.post("/courses/sample/02-check/quiz/start", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert "used all your attempts" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 2


def test_replayed_submission_is_graded_once(app, client, login_as, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)}
    first = client.post(url, data=data)
    second = client.post(url, data=answers_for(app, url, correct=True) | {"csrf_token": csrf_from(html)})
    assert first.status_code == second.status_code == 303
    with app.app_context():
        attempts = list(db.session.scalars(sa.select(QuizAttempt)))
        assert len(attempts) == 1 and attempts[0].score == 0
        progress = db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == "02-check"))
        assert progress.attempts == 1


def test_concurrent_submissions_of_one_attempt_grade_once(app, login_as, client, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)}
    cookie = client.get_cookie("session").value
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def submit():
        other = app.test_client()
        other.set_cookie("session", cookie)
        barrier.wait(timeout=30)
        statuses.append(other.post(url, data=data).status_code)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * 6
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 1
        progress = db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == "02-check"))
        assert progress.attempts == 1
        passed = db.session.scalar(sa.select(sa.func.count(Statement.seq)).where(Statement.verb == "passed"))
        assert passed == 1


@pytest.mark.parametrize(("extra", "message"), [
    ({"q7": "0"}, "not in this attempt"),
    ({"q0": "99"}, None),
    ({"q0": "abc"}, None),
    ({"attempt": "someone-else"}, "does not belong"),
])
def test_bad_submissions_are_4xx_and_write_nothing(app, client, login_as, sample_course, extra, message):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)} | extra
    response = client.post(url, data=data)
    assert response.status_code == 400
    if message:
        assert message in response.get_data(as_text=True)
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert attempt.submitted_at is None and attempt.score is None


def test_missing_csrf_or_oversized_payload_is_refused(app, client, login_as, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    assert client.post(url, data=answers_for(app, url)).status_code == 400
    huge = answers_for(app, url) | {"csrf_token": csrf_from(html), "q0": "1" * (2 * 1024 * 1024)}
    assert client.post(url, data=huge).status_code == 413
    with app.app_context():
        assert db.session.scalar(sa.select(QuizAttempt)).submitted_at is None


def test_another_learners_attempt_is_forbidden(app, client, login_as, sample_course):
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)}
    other = app.test_client()
    from tests.conftest import PASSWORD

    from learning.accounts.services import create_user

    with app.app_context():
        create_user("intruder@example.kz", role="learner", org_path="R/A", password=PASSWORD)
        db.session.commit()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    other.post("/login", data={"email": "intruder@example.kz", "password": PASSWORD, "csrf_token": token})
    other.get("/courses/sample/01-welcome")  # enrol
    data["csrf_token"] = csrf_from(other.get("/").get_data(as_text=True))
    assert other.post(url, data=data).status_code == 403
    assert other.get(url).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(QuizAttempt)).submitted_at is None


def test_a_locked_quiz_refuses_a_submission_and_grades_it_once_open(app, client, login_as):
    from learning.content import queries
    from learning.content.services import sync_library
    from learning.progress import services as progress
    from learning.quizzes import services as quizzes
    from tests.conftest import SAMPLE_COURSE, write_course

    root = Path(app.config["COURSES_DIR"])
    write_course(root, files=SAMPLE_COURSE | {"course.yaml": SAMPLE_COURSE["course.yaml"] + "\n        sequential: true\n"})
    with app.app_context():
        sync_library(root)
    user_id, _ = login_as("learner", language="en")
    page = client.get("/courses/sample/01-welcome").get_data(as_text=True)  # enrols
    with app.app_context():  # an attempt opened while the module is still locked (not via the page)
        user = db.session.get(User, user_id)
        enrollment = progress.find_enrollment(user, queries.course_by_slug("sample"))
        view = queries.revision_view(enrollment.revision_id)
        token = quizzes.start_attempt(user, enrollment, view, "02-check", "en").token
        db.session.commit()
    url = f"/courses/sample/02-check/quiz/{token}"
    data = answers_for(app, url) | {"csrf_token": csrf_from(page)}
    assert client.post(url, data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(QuizAttempt)).submitted_at is None
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": csrf_from(page), "position": "2"})
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert attempt.submitted_at is not None and attempt.score == 100 and attempt.is_passed


def test_an_attempt_is_graded_from_its_own_copy_of_the_questions(app, client, login_as, sample_course):
    """Grading uses the revision's questions read once per worker only while the attempt's
    copy is still exactly those questions."""
    login_as("learner", language="en")
    url, html = start_quiz(client)
    data = answers_for(app, url) | {"csrf_token": csrf_from(html)}  # right as the revision has it
    token = url.rsplit("/", 1)[-1]
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        questions = copy.deepcopy(attempt.questions)
        for answer in questions[0]["answers"]:  # in this copy the other option is the right one
            answer["fraction"] = 1.0 - answer["fraction"]
        attempt.questions = questions
        db.session.commit()
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        assert attempt.score == 50
        assert [r["is_correct"] for r in attempt.results] == [False, True]


def test_a_one_module_course_completes_when_its_quiz_is_read_and_passed(app, client, login_as):
    from learning.content.services import sync_library
    from learning.progress.models import CompletionRecord, Enrollment
    from tests.conftest import SAMPLE_COURSE, write_course

    root = Path(app.config["COURSES_DIR"])
    files = {k: v for k, v in SAMPLE_COURSE.items() if not k.startswith("01-")}
    files["course.yaml"] = files["course.yaml"].replace("languages: [en, ru]", "languages: [en]")
    write_course(root, files=files)
    with app.app_context():
        outcomes = sync_library(root)
        assert outcomes[0].status == "created", outcomes
    user_id, _ = login_as("learner", language="en")
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    url, html = start_quiz(client)
    client.post(url, data=answers_for(app, url, correct=False) | {"csrf_token": csrf_from(html)})
    with app.app_context():
        enrollment = db.session.scalar(sa.select(Enrollment))
        assert (enrollment.percent_complete, enrollment.last_module_slug) == (0, "02-check")
    client.post("/courses/sample/02-check/read", data={"csrf_token": csrf_from(page), "position": "1"})
    url, html = start_quiz(client)
    assert client.post(url, data=answers_for(app, url) | {"csrf_token": csrf_from(html)}).status_code == 303
    with app.app_context():
        enrollment = db.session.scalar(sa.select(Enrollment))
        assert enrollment.percent_complete == 100 and enrollment.completed_at is not None
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
        row = db.session.scalar(sa.select(ModuleProgress))
        assert (row.attempts, row.best_score, row.is_quiz_passed, row.status) == (2, 100, True, "completed")
        verbs = list(db.session.scalars(sa.select(Statement.verb).where(Statement.user_id == user_id)
                                        .order_by(Statement.seq)))
        assert verbs.count("failed") == verbs.count("passed") == verbs.count("completed") == 1
        assert verbs.index("failed") < verbs.index("passed") < verbs.index("completed")
