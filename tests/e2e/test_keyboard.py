"""A learner reads a module and passes its quiz with the keyboard alone, in Kazakh."""

from __future__ import annotations

import re

import sqlalchemy as sa

from learning.content.services import sync_library
from learning.extensions import db
from learning.quizzes.models import QuizAttempt
from tests.conftest import REPO_DIR
from tests.e2e.helpers import log_in

MODULE = "03-greeting-and-address"


def focused(page, expression: str = "el => el"):
    return page.evaluate(f"() => {{ const el = document.activeElement; return ({expression})(el); }}")


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            outline = focused(page, "el => getComputedStyle(el).outlineStyle")
            assert outline != "none", f"no visible focus on {selector}"
            return
    raise AssertionError(f"could not reach {selector} with Tab")


def test_keyboard_only_module_and_quiz_in_kazakh(app, make_user, live_server, page):
    with app.app_context():
        assert sync_library(REPO_DIR / "courses")[0].status == "created"
    _, email = make_user("learner", language="kk")
    log_in(page, live_server, email)
    page.goto(f"{live_server}/courses/unity-in-diversity/{MODULE}")
    assert page.locator("html").get_attribute("lang") == "kk"
    # the skip link is the first stop and moves focus to the content
    page.keyboard.press("Tab")
    assert focused(page, "el => el.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    assert focused(page, "el => el.id") == "main"
    tab_to(page, "form[action$='/read'] [type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "form[action$='/quiz/start'] [type=submit]")
    with page.expect_navigation(url=re.compile(r".*/quiz/[A-Za-z0-9_-]+$")):
        page.keyboard.press("Enter")
    token = page.url.rsplit("/", 1)[-1]
    with app.app_context():
        questions = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token)).questions
    for i, q in enumerate(questions):
        answers = q["answers"]
        if q["type"] in ("multiple_choice", "true_false"):
            if q["type"] == "true_false":
                right = next(a["text"] for a in answers if a["fraction"] > 0)
                target = f"q{i}-{'t' if right == 'true' else 'f'}"
            else:
                target = f"q{i}-{max(range(len(answers)), key=lambda k: answers[k]['fraction'])}"
            tab_to(page, f"input[name=q{i}]")
            page.keyboard.press("Space")
            for _ in range(len(answers) + 1):
                if page.locator(f"#{target}").is_checked():
                    break
                page.keyboard.press("ArrowDown")
            assert page.locator(f"#{target}").is_checked()
        elif q["type"] == "matching":
            for k, a in enumerate(answers):
                if not a["text"]:
                    continue
                tab_to(page, f"#q{i}-{k}")
                for _ in range(len(answers) + 2):
                    if page.locator(f"#q{i}-{k}").input_value() == a["match"]:
                        break
                    page.keyboard.press("ArrowDown")
                assert page.locator(f"#q{i}-{k}").input_value() == a["match"]
        elif q["type"] == "short_answer":
            tab_to(page, f"#q{i}")
            page.keyboard.type(max(answers, key=lambda a: a["fraction"])["text"].replace("*", ""))
    tab_to(page, "form.quiz-form [type=submit]")
    with page.expect_navigation(url=re.compile(r".*/result$")):
        page.keyboard.press("Enter")
    assert page.locator(".result-summary.passed").count() == 1
