"""Every form and API endpoint fed wrong types, huge strings, naughty strings, missing and
duplicate fields: a 4xx or a form error each time, never a 500, and nothing written."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from learning.extensions import db
from tests.conftest import csrf_from
from tests.xss import naughty_strings

NAUGHTY = naughty_strings()[::4] + ["", " ", "\x00", "A" * 100_000, "-1", "1e309", "[]", "{}", "0" * 500]
UNCOUNTED = {"audit_events", "auth_sessions", "alembic_version"}


def row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in db.metadata.sorted_tables if t.name not in UNCOUNTED}


def variants(fields: list[str]):
    for value in NAUGHTY:
        yield [(f, value) for f in fields]
    yield [(f, v) for f in fields for v in ("1", "2")]  # duplicated fields
    yield []  # every field missing
    yield [(f, str(i)) for i, f in enumerate(fields)]  # numbers where text is expected and back


def fuzz(app, client, method, path, fields, token, extra=None):
    """Send every variant; a refused one (4xx, or a form shown again) must write nothing."""
    statuses = []
    for data in variants(fields):
        data = MultiDict(list(data) + [("csrf_token", token)] + list((extra or {}).items()))
        with app.app_context():
            before = row_counts()
        if method == "GET":
            response = client.get(path, query_string=data)
        else:
            response = client.post(path, data=data)
        statuses.append(response.status_code)
        shown = list(data.items(multi=True))[:3]
        assert response.status_code < 500, (path, shown, response.status_code)
        if response.status_code in (302, 303):
            client.get(response.headers["Location"])  # as a browser would, showing any flash
        if response.status_code >= 400 or (method == "POST" and response.status_code == 200):
            with app.app_context():
                assert row_counts() == before, (path, shown, response.status_code)
    return statuses


@pytest.fixture
def learner_page(client, login_as, sample_course):
    login_as("learner", language="en")
    return csrf_from(client.get("/courses/sample/01-welcome").get_data(as_text=True))


LEARNER_FORMS = [
    ("POST", "/language", ["language", "next"]),
    ("POST", "/me/password", ["current_password", "new_password", "confirm_password"]),
    ("POST", "/courses/sample/01-welcome/read", ["position"]),
    ("POST", "/courses/sample/01-welcome/activity", ["seconds", "position"]),
    ("GET", "/courses", ["page", "q"]),
]


@pytest.mark.parametrize(("method", "path", "fields"), LEARNER_FORMS, ids=[p for _, p, _ in LEARNER_FORMS])
def test_learner_forms(app, client, learner_page, method, path, fields):
    statuses = fuzz(app, client, method, path, fields, learner_page)
    if path == "/courses/sample/01-welcome/activity":
        assert 400 in statuses


def test_login_form(app, client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    app.config["RATELIMIT_ENABLED"] = False
    from learning.extensions import limiter

    limiter.enabled = False
    try:
        with app.app_context():
            before = row_counts()
        statuses = fuzz(app, client, "POST", "/login", ["email", "password", "next"], token)
        assert set(statuses) <= {200, 400}
        with app.app_context():
            assert row_counts() == before
    finally:
        limiter.enabled = True


def test_quiz_submission(app, client, learner_page):
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    start = client.post("/courses/sample/02-check/quiz/start", data={"csrf_token": csrf_from(page)})
    url = start.headers["Location"]
    token = url.rsplit("/", 1)[-1]
    with app.app_context():
        before = row_counts()
    statuses = fuzz(app, client, "POST", url, ["q0", "q1", "q2", "attempt"], learner_page)
    assert set(statuses) <= {400, 413}
    with app.app_context():
        assert row_counts() == before
        from learning.quizzes.models import QuizAttempt

        assert db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token)).submitted_at is None


STAFF_FORMS = [
    ("hr", "POST", "/hr/assignments", ["course", "target", "unit", "people", "due_on", "note"]),
    ("hr", "GET", "/hr/report", ["unit", "course", "status", "due_from", "due_to", "name", "sort", "order",
                                 "per_page", "page"]),
    ("hr", "GET", "/hr", ["unit", "course"]),
    ("hr", "GET", "/hr/report.csv", ["unit", "course", "status", "due_from", "name", "sort"]),
    ("admin", "POST", "/admin/users/1/role", ["role"]),
    ("admin", "GET", "/admin/records", ["q", "page"]),
    ("admin", "GET", "/admin/audit", ["action", "actor", "page"]),
    ("trainer", "POST", "/author/_new", ["slug", "title", "language"]),
    ("trainer", "GET", "/author/sample/compare", ["a", "b", "from", "to"]),
]


@pytest.mark.parametrize(("role", "method", "path", "fields"), STAFF_FORMS,
                         ids=[f"{r}-{p}" for r, _, p, _ in STAFF_FORMS])
def test_staff_forms(app, client, login_as, sample_course, role, method, path, fields):
    login_as(role, language="en")
    token = csrf_from(client.get("/me/password").get_data(as_text=True))
    with app.app_context():
        before = row_counts()
    fuzz(app, client, method, path, fields, token)
    with app.app_context():
        assert row_counts() == before


def test_studio_editor(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    token = csrf_from(client.get("/author/sample").get_data(as_text=True))
    response = client.post("/author/sample/drafts", data={"csrf_token": token})
    draft = re.search(r"/drafts/(\d+)", response.headers["Location"]).group(1)
    editor = client.get(f"/author/sample/drafts/{draft}/edit/01-welcome.en.md").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', editor) or re.search(
        r'value="(\d+)"[^>]*name="version"', editor)
    with app.app_context():
        before = row_counts()
    for path, fields in ((f"/author/sample/drafts/{draft}/preview", ["text"]),
                         (f"/author/sample/drafts/{draft}/modules", ["number", "name", "language", "title"]),
                         (f"/author/sample/drafts/{draft}/delete", ["path"]),
                         (f"/author/sample/drafts/{draft}/publish", ["version", "note"])):
        fuzz(app, client, "POST", path, fields, token)
    # the editor itself: a naughty text may be saved (it is the trainer's draft), but never a 500
    fuzz(app, client, "POST", f"/author/sample/drafts/{draft}/edit/01-welcome.en.md", ["text", "base_hash"],
         token, extra={"version": version.group(1) if version else "1", "save": "1"})
    with app.app_context():
        after = row_counts()
    assert {k: v for k, v in after.items() if k != "course_drafts"} == \
        {k: v for k, v in before.items() if k != "course_drafts"}


def test_api_query_parameters(app, client, runner, make_user, sample_course):
    _, email = make_user("hr")
    token = runner.invoke(args=["api-tokens", "create", email]).output.split()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    for path, fields in (("/api/v1/completions", ["unit", "course", "status", "since", "cursor", "limit"]),
                         ("/api/v1/xapi/statements", ["since", "until", "cursor", "limit"]),
                         ("/api/v1/courses", ["cursor"]),
                         ("/api/v1/users/1/transcript", ["x"])):
        for data in variants(fields):
            response = client.get(path, query_string=MultiDict(data), headers=headers)
            assert response.status_code < 500, (path, data[:2])
            assert response.is_json
    for junk in NAUGHTY[:40]:
        response = client.get("/api/v1/completions", headers={"Authorization": f"Bearer {junk}"})
        assert response.status_code == 401 and response.is_json
