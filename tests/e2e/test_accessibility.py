"""axe-core finds no WCAG 2.1 A/AA violation on the main pages, in every language;
the layout has no horizontal scrolling at 320 px; a learner can do everything by keyboard."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from learning.extensions import db
from learning.progress.models import CompletionRecord
from tests.e2e.conftest import run_axe
from tests.e2e.helpers import answer_quiz, log_in

LANGUAGES = ("kk", "ru", "en")


def _learner_pages(app, page, base, make_user, language):
    """Visit the learner's pages, yielding (name, url) after each one loads."""
    _, email = make_user("learner", language=language)
    page.goto(f"{base}/login")
    yield "login"
    log_in(page, base, email)
    page.goto(f"{base}/")
    yield "dashboard"
    page.goto(f"{base}/courses")
    yield "catalogue"
    page.goto(f"{base}/courses/sample")
    yield "course"
    page.goto(f"{base}/courses/sample/01-welcome")
    yield "module"
    page.locator("form[action$='/read'] button[type=submit], form[action$='/read'] input[type=submit]").click()
    page.goto(f"{base}/courses/sample/02-check")
    page.locator("form[action$='/read'] [type=submit]").click()
    page.goto(f"{base}/courses/sample/02-check")
    page.locator("form[action$='/quiz/start'] [type=submit]").click()
    page.wait_for_url(re.compile(r".*/quiz/[A-Za-z0-9_-]+$"))
    yield "quiz"
    answer_quiz(app, page)
    page.locator("form.quiz-form [type=submit]").click()
    page.wait_for_url(re.compile(r".*/result$"))
    yield "quiz result"
    page.goto(f"{base}/me/transcript")
    yield "transcript"
    with app.app_context():
        code = db.session.scalar(sa.select(CompletionRecord.certificate_code))
    page.goto(f"{base}/verify/{code}")
    yield "verification"


@pytest.mark.parametrize("language", LANGUAGES)
def test_learner_pages_pass_axe(app, sample_course, make_user, live_server, browser, language):
    context = browser.new_context(locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}[language])
    page = context.new_page()
    failures = {}
    try:
        for name in _learner_pages(app, page, live_server, make_user, language):
            assert page.locator("html").get_attribute("lang") == language, name
            violations = run_axe(page)
            if violations:
                failures[name] = violations
    finally:
        context.close()
    assert failures == {}


@pytest.mark.parametrize("path", ["/login", "/", "/courses", "/courses/sample", "/courses/sample/01-welcome",
                                  "/me/transcript"])
def test_no_horizontal_scrolling_at_320px(app, sample_course, make_user, live_server, browser, path):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="ru-RU")
    page = context.new_page()
    try:
        _, email = make_user("learner", language="kk")
        log_in(page, live_server, email)
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    finally:
        context.close()


def test_axe_is_really_running(page):
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png">'
                     '<input type="text"></main></body></html>')
    ids = {v["id"] for v in run_axe(page)}
    assert {"image-alt", "label"} <= ids


STAFF_PAGES = [
    ("hr", "/hr"), ("hr", "/hr/report"), ("hr", "/hr/assignments"),
    ("trainer", "/author/"), ("trainer", "/author/sample"), ("trainer", "EDITOR"),
    ("trainer", "/author/sample/analysis"), ("admin", "/admin/records"), ("admin", "/admin/audit"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pages_pass_axe(app, sample_course, make_user, live_server, browser, language):
    context = browser.new_context(locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}[language])
    page = context.new_page()
    failures = {}
    try:
        for role in ("hr", "trainer", "admin"):
            _, email = make_user(role, language=language)
            context.clear_cookies()
            log_in(page, live_server, email)
            for page_role, path in STAFF_PAGES:
                if page_role != role:
                    continue
                if path == "EDITOR":
                    page.goto(f"{live_server}/author/sample")
                    page.locator("form[action$='/drafts'] [type=submit]").first.click()
                    page.wait_for_url(re.compile(r".*/drafts/\d+$"))
                    path = page.url.replace(live_server, "") + "/edit/01-welcome.en.md"
                page.goto(live_server + path)
                assert page.locator("html").get_attribute("lang") == language, path
                violations = run_axe(page)
                if violations:
                    failures[path] = violations
    finally:
        context.close()
    assert failures == {}
