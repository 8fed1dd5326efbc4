"""Who may reach which route: a table covering every endpoint of the app's URL map.

A new route without a row here fails `test_every_route_has_a_row`.
Outcomes: a status code, or "login" (redirected to the login page).
"""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from

ROLES = ("anonymous", "learner", "trainer", "hr", "admin")
ALL = {"learner": 200, "trainer": 200, "hr": 200, "admin": 200}


def row(method, path, anonymous, **roles):
    outcome = {"anonymous": anonymous}
    for role in ROLES[1:]:
        outcome[role] = roles.get(role, roles.get("users"))
    return method, path, outcome


ACCESS = {
    "main.dashboard": row("GET", "/", "login", users=200),
    "main.healthz": row("GET", "/healthz", 200, users=200),
    "accounts.login": row("GET", "/login", 200, users=302),
    "accounts.logout": row("POST", "/logout", 302, users=302),
    "accounts.change_password": row("GET", "/me/password", "login", users=200),
    "accounts.logout_everywhere": row("POST", "/me/logout-everywhere", "login", users=302),
    "accounts.set_language": row("POST", "/language", 302, users=302),
    "content.catalogue": row("GET", "/courses", "login", users=200),
    "content.course": row("GET", "/courses/sample", "login", users=200),
    "content.start": row("POST", "/courses/sample/start", "login", users=302),
    "content.switch_revision": row("POST", "/courses/sample/switch", "login", users=400),
    "content.recertify": row("POST", "/courses/sample/recertify", "login", users=400),
    "content.module": row("GET", "/courses/sample/01-welcome", "login", users=200),
    "content.mark_read": row("POST", "/courses/sample/01-welcome/read", "login", users=400),
    "content.activity": row("POST", "/courses/sample/01-welcome/activity", "login", users=400),
    "content.media": row("GET", "/courses/sample/media/none.png", "login", users=404),
    "quizzes.start": row("POST", "/courses/sample/02-check/quiz/start", "login", users=404),
    "quizzes.take": row("GET", "/courses/sample/02-check/quiz/unknown-token", "login", users=404),
    "quizzes.submit": row("POST", "/courses/sample/02-check/quiz/unknown-token", "login", users=404),
    "quizzes.result": row("GET", "/courses/sample/02-check/quiz/unknown-token/result", "login", users=404),
    "progress.transcript": row("GET", "/me/transcript", "login", users=200),
    "progress.certificate": row("GET", "/certificates/unknown-code-0000000000000.pdf", "login", users=404),
    "progress.badge": row("GET", "/certificates/unknown-code-0000000000000.jwt", "login", users=404),
    "progress.verify": row("GET", "/verify/unknown-code-0000000000000", 404, users=404),
    "progress.jwks": row("GET", "/.well-known/jwks.json", 200, users=200),
}


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = endpoints - set(ACCESS)
    assert not missing, f"routes without an access rule: {sorted(missing)}"
    assert not set(ACCESS) - endpoints, "rows for routes that no longer exist"


CASES = [(endpoint, role) for endpoint in ACCESS for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_access(client, login_as, sample_course, endpoint, role):
    method, path, outcomes = ACCESS[endpoint]
    expected = outcomes[role]
    if role != "anonymous":
        login_as(role)
    token = csrf_from(client.get("/login" if role == "anonymous" else "/me/password").get_data(as_text=True))
    if method == "GET":
        response = client.get(path)
    else:
        data = {"csrf_token": token}
        if endpoint == "accounts.set_language":
            data["language"] = "kk"
        response = client.post(path, data=data)
    if expected == "login":
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == expected, (response.status_code, response.get_data(as_text=True)[:500])
