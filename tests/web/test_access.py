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
    "progress.transcript_pdf": row("GET", "/me/transcript.pdf", "login", users=200),
    "admin.records": row("GET", "/admin/records", "login", learner=403, trainer=403, hr=403, admin=200),
    "admin.revoke": row("GET", "/admin/records/999/revoke", "login", learner=403, trainer=403, hr=403, admin=404),
    "admin.users": row("GET", "/admin/users", "login", learner=403, trainer=403, hr=403, admin=200),
    "admin.change_role": row("POST", "/admin/users/999/role", "login", learner=403, trainer=403, hr=403, admin=404),
    "admin.audit": row("GET", "/admin/audit", "login", learner=403, trainer=403, hr=403, admin=200),
    "admin.audit_csv": row("GET", "/admin/audit.csv", "login", learner=403, trainer=403, hr=403, admin=200),
    "progress.transcript": row("GET", "/me/transcript", "login", users=200),
    "progress.certificate": row("GET", "/certificates/unknown-code-0000000000000.pdf", "login", users=404),
    "progress.badge": row("GET", "/certificates/unknown-code-0000000000000.jwt", "login", users=404),
    "progress.verify": row("GET", "/verify/unknown-code-0000000000000", 404, users=404),
    "progress.jwks": row("GET", "/.well-known/jwks.json", 200, users=200),
    # HR (issue 6): hr and admin only; unit scope is tested in tests/web/test_hr.py
    "hr.dashboard": row("GET", "/hr", "login", users=403, hr=200, admin=200),
    "hr.report": row("GET", "/hr/report", "login", users=403, hr=200, admin=200),
    "hr.export_csv": row("GET", "/hr/report.csv", "login", users=403, hr=200, admin=200),
    "hr.export_xlsx": row("GET", "/hr/report.xlsx", "login", users=403, hr=200, admin=200),
    "hr.person": row("GET", "/hr/people/1", "login", users=403, hr=200, admin=200),
    "hr.assignments": row("GET", "/hr/assignments", "login", users=403, hr=200, admin=200),
    "hr.create_assignment": row("POST", "/hr/assignments", "login", users=403, hr=400, admin=400),
    "hr.cancel_assignment": row("POST", "/hr/assignments/999/cancel", "login", users=403, hr=404, admin=404),
    # The API takes bearer tokens only: a browser session is no credential (tests/web/test_api.py)
    "api.openapi": row("GET", "/api/v1/openapi.json", 200, users=200),
    "api.courses": row("GET", "/api/v1/courses", 401, users=401),
    "api.completions": row("GET", "/api/v1/completions", 401, users=401),
    "api.transcript": row("GET", "/api/v1/users/1/transcript", 401, users=401),
    "api.statements": row("GET", "/api/v1/xapi/statements", 401, users=401),
    # The studio (issues 3 and 4): trainer and admin only; a POST with only a CSRF token is
    # refused as incomplete (422) or finds nothing (404). Flows: tests/web/test_authoring*.py
    **{f"authoring.{name}": row(method, path, "login", users=403, trainer=status, admin=status)
       for name, method, path, status in (
        ("index", "GET", "/author/", 200),
        ("create_course", "GET", "/author/_new", 200),
        ("import_course", "POST", "/author/_import", 422),
        ("course", "GET", "/author/sample", 200),
        ("new_draft", "POST", "/author/sample/drafts", 302),
        ("draft", "GET", "/author/sample/drafts/999", 404),
        ("edit_file", "GET", "/author/sample/drafts/999/edit/course.yaml", 404),
        ("preview", "POST", "/author/sample/drafts/999/preview", 404),
        ("add_module", "POST", "/author/sample/drafts/999/modules", 404),
        ("delete_file", "POST", "/author/sample/drafts/999/delete", 404),
        ("upload_media", "POST", "/author/sample/drafts/999/media", 404),
        ("draft_media", "GET", "/author/sample/drafts/999/media/x.png", 404),
        ("publish", "POST", "/author/sample/drafts/999/publish", 404),
        ("discard_draft", "POST", "/author/sample/drafts/999/discard", 404),
        ("compare", "GET", "/author/sample/compare", 200),
        ("export_revision", "GET", "/author/sample/revisions/1/export.zip", 200),
        ("analysis", "GET", "/author/sample/analysis", 200),
        ("grade_essay", "POST", "/author/sample/analysis/essays/999/0", 404),
    )},
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
