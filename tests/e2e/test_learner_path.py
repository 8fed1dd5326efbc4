"""A demo learner logs in, reads a module, and sees the dashboard change — in Chromium."""

from __future__ import annotations

import re


def demo_passwords(runner) -> dict[str, str]:
    output = runner.invoke(args=["demo", "seed"]).output
    return {m.group(1): m.group(2) for m in re.finditer(r"(\S+@demo\.kelisim\.kz)\s+(\S+)", output)}


def test_demo_learner_reads_a_module_and_the_dashboard_shows_it(runner, sample_course, live_server, page):
    password = demo_passwords(runner)["learner@demo.kelisim.kz"]
    page.goto(f"{live_server}/courses/sample")
    assert "/login" in page.url
    page.get_by_label("E-mail").fill("learner@demo.kelisim.kz")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/courses/sample")
    page.get_by_role("button", name="Start the course").click()
    page.wait_for_url(re.compile(r".*/courses/sample/01-welcome$"))
    assert page.get_by_role("heading", name="First section").is_visible()
    page.goto(f"{live_server}/")
    assert "0%" in page.locator("main").inner_text()
    page.goto(f"{live_server}/courses/sample/01-welcome")
    page.get_by_role("button", name="I have read this module").click()
    page.goto(f"{live_server}/")
    assert "33%" in page.locator("main").inner_text()
