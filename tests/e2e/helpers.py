"""Browser-test helpers: logging in and answering a quiz attempt correctly."""

from __future__ import annotations

import sqlalchemy as sa

from learning.extensions import db
from learning.quizzes.models import QuizAttempt
from tests.conftest import PASSWORD


def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_load_state()


def right_answers(app, token: str) -> list[tuple[str, str, object]]:
    """(kind, field id or name, value) for each question of the attempt, answered right."""
    with app.app_context():
        attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token))
        actions = []
        for i, q in enumerate(attempt.questions):
            answers = q["answers"]
            if q["type"] in ("multiple_choice", "missing_word"):
                best = max(range(len(answers)), key=lambda k: answers[k]["fraction"])
                actions.append(("check", f"#q{i}-{best}", None))
            elif q["type"] == "multiple_response":
                for k, a in enumerate(answers):
                    if a["fraction"] > 0:
                        actions.append(("check", f"#q{i}-{k}", None))
            elif q["type"] == "true_false":
                right = next(a["text"] for a in answers if a["fraction"] > 0)
                actions.append(("check", f"#q{i}-{'t' if right == 'true' else 'f'}", None))
            elif q["type"] == "matching":
                for k, a in enumerate(answers):
                    if a["text"]:
                        actions.append(("select", f"#q{i}-{k}", a["match"]))
            elif q["type"] in ("short_answer", "numerical"):
                best = max(answers, key=lambda a: a["fraction"])
                value = best["text"] if q["type"] == "short_answer" else str(best.get("value", best.get("min")))
                actions.append(("fill", f"#q{i}", value.replace("*", "")))
            elif q["type"] == "essay":
                actions.append(("fill", f"#q{i}", "An answer."))
        return actions


def answer_quiz(app, page) -> None:
    token = page.url.rstrip("/").split("/")[-1]
    for kind, selector, value in right_answers(app, token):
        locator = page.locator(selector)
        if kind == "check":
            locator.check()
        elif kind == "select":
            locator.select_option(value=value)
        else:
            locator.fill(value)
