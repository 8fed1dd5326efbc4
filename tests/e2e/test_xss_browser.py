"""In Chromium, hostile course content opens no dialog and triggers no CSP violation."""

from __future__ import annotations

import re
from pathlib import Path

from learning.content.services import sync_library
from tests.e2e.helpers import log_in
from tests.web.test_xss import write_hostile_course


def test_hostile_content_runs_nothing_in_the_browser(app, make_user, live_server, page, monkeypatch):
    from learning.content import parser

    real = parser.course_from_files
    monkeypatch.setattr(parser, "course_from_files", lambda files, slug: (
        real(files, slug)[0],
        [p for p in real(files, slug)[1] if "link" not in p.message and "image" not in p.message
         and "scheme" not in p.message]))
    root = Path(app.config["COURSES_DIR"])
    write_hostile_course(root)
    with app.app_context():
        assert sync_library(root)[0].status == "created"
    dialogs: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    _, email = make_user("learner", language="en")
    log_in(page, live_server, email)
    for path in ("/courses", "/courses/hostile", "/courses/hostile/01-body", "/courses/hostile/02-quiz"):
        page.goto(live_server + path)
        page.wait_for_load_state("load")
    page.get_by_role("button", name="Start the quiz").click()
    page.wait_for_url(re.compile(r".*/quiz/[A-Za-z0-9_-]+$"))
    page.wait_for_timeout(300)
    assert dialogs == []
    assert violations == []
