"""The starter course, read and passed end to end in Chromium."""

from __future__ import annotations

import re

import sqlalchemy as sa

from learning.content.services import sync_library
from learning.extensions import db
from learning.progress.models import CompletionRecord
from tests.conftest import REPO_DIR
from tests.e2e.helpers import answer_quiz, log_in

SLUG = "unity-in-diversity"


def test_learner_completes_the_starter_course(app, make_user, live_server, page):
    with app.app_context():
        outcome = sync_library(REPO_DIR / "courses")
        assert outcome[0].status == "created", outcome[0].problems
    _, email = make_user("learner", language="en")
    log_in(page, live_server, email)
    page.goto(f"{live_server}/courses/{SLUG}")
    page.get_by_role("button", name="Start the course").click()
    modules = 0
    while True:
        page.goto(f"{live_server}/courses/{SLUG}")
        cont = page.get_by_role("link", name="Continue", exact=True)
        if cont.count() == 0:
            break
        cont.click()
        page.wait_for_load_state()
        modules += 1
        assert modules <= 9, "the course never completes"
        read = page.get_by_role("button", name="I have read this module")
        if read.count():
            read.click()
            page.wait_for_load_state()
        start = page.get_by_role("button", name="Start the quiz")
        if start.count():
            start.click()
            page.wait_for_url(re.compile(r".*/quiz/[A-Za-z0-9_-]+$"))
            answer_quiz(app, page)
            page.get_by_role("button", name="Submit answers").click()
            page.wait_for_url(re.compile(r".*/result$"))
            assert "Passed." in page.locator("main").inner_text()
    assert modules == 9
    assert "You completed this course." in page.locator("main").inner_text()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
