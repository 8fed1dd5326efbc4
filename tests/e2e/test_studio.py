"""A trainer edits a module in the studio with the live preview — in Chromium."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from tests.e2e.conftest import run_axe


def log_in_as_trainer(page, live_server, make_user) -> None:
    _, email = make_user("trainer", language="en")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")


def test_live_preview_problems_and_line_jumps(sample_course, live_server, page, make_user):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in_as_trainer(page, live_server, make_user)
    page.goto(f"{live_server}/author/sample")
    page.get_by_role("button", name="New draft from the current revision").click()
    page.wait_for_url(re.compile(r".*/author/sample/drafts/\d+$"))
    assert run_axe(page) == []
    page.get_by_role("link", name="02-check.en.md").click()
    page.wait_for_url(re.compile(r".*/edit/02-check\.en\.md$"))
    assert run_axe(page) == []

    editor = page.get_by_label("Text (Markdown with YAML front matter)")
    text = editor.input_value().replace("Read this, then answer.",
                                        "## Live heading\n\nSee ![map](media/missing.png).")
    editor.fill(text)
    preview = page.locator("#preview-body")
    preview.get_by_role("heading", name="Live heading").wait_for()
    problem = page.locator(".problems-live a[data-line]").first
    problem.wait_for()
    assert problem.inner_text() == "Line 8"
    assert "broken image" in page.locator(".problems-live").inner_text()

    problem.click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('text');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == "See ![map](media/missing.png)."
    assert "Line 8" in page.locator(".cursor-position").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r".*/edit/02-check\.en\.md$"))
    assert page.get_by_text("Saved.").is_visible()


def test_studio_pages_pass_axe(sample_course, live_server, page, make_user):
    log_in_as_trainer(page, live_server, make_user)
    for path in ("/author/", "/author/sample", "/author/_new", "/author/_import", "/author/sample/analysis"):
        page.goto(f"{live_server}{path}")
        assert run_axe(page) == [], path
    page.goto(f"{live_server}/author/sample")
    page.get_by_role("button", name="New draft from the current revision").click()
    page.wait_for_url(re.compile(r".*/author/sample/drafts/\d+$"))
    page.get_by_role("link", name="Edit course.yaml").click()
    editor = page.get_by_label("Text")
    editor.fill(editor.input_value().replace("validity_months: 12", "validity_months: 6"))
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name=re.compile(r"Draft \d+")).click()
    page.get_by_role("link", name="Changes since then").click()
    assert "validity_months: 6" in page.locator("main").inner_text()
    assert run_axe(page) == []
