"""Template helpers that remember work between requests (learning/templating.py) must never
show one person's page parts to another: the navigation per role and language, the CSRF token
per session."""

from __future__ import annotations

import re
import time

from tests.conftest import csrf_from


def _nav(html: str) -> str:
    match = re.search(r'<nav aria-label="[^"]*" class="main-nav">(.*?)</nav>', html, re.S)
    assert match, "no main navigation"
    return match.group(1)


def test_navigation_follows_role_and_language_in_one_worker(client, login_as):
    login_as("admin", language="en")
    admin_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Audit log" in admin_nav and "/hr" in admin_nav

    login_as("learner", language="en")
    learner_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Courses" in learner_nav
    assert "Audit log" not in learner_nav and "/hr" not in learner_nav and "/studio" not in learner_nav

    login_as("learner", language="ru")
    russian_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Курсы" in russian_nav and "Courses" not in russian_nav

    client.delete_cookie("session")
    anonymous = client.get("/login").get_data(as_text=True)
    assert "<li>" not in _nav(anonymous)


def test_csrf_token_is_per_session_and_still_accepted_when_reused(client, login_as, app):
    login_as("learner", language="en")
    first = csrf_from(client.get("/").get_data(as_text=True))
    time.sleep(1.1)  # a new signature would carry another timestamp
    second = csrf_from(client.get("/courses").get_data(as_text=True))
    assert first == second  # signed once for this session, then reused
    # The reused signature is accepted by a form post.
    response = client.post("/language", data={"language": "ru", "next": "/", "csrf_token": second})
    assert response.status_code in (302, 303)

    login_as("learner", language="en")  # another session
    other = csrf_from(client.get("/").get_data(as_text=True))
    assert other != first
    # The first session's token is refused in the second session.
    refused = client.post("/language", data={"language": "ru", "next": "/", "csrf_token": first})
    assert refused.status_code == 400
