"""The HR API /api/v1: tokens, scope, endpoints, bad input; every answer checked against
openapi.json."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import request, request_finished
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from learning.api.models import ApiToken
from learning.api.openapi import openapi_document
from learning.audit.models import AuditEvent
from learning.db import utcnow
from learning.extensions import db
from learning.progress.models import Statement
from tests.hr_helpers import api_token, assign_unit, complete, enroll, unit_id

DEPT_A = "Region A/Akimat A/Dept A"
DEPT_B = "Region A/Akimat A/Dept B"
AKIMAT_A = "Region A/Akimat A"
REGION_B = "Region B/Akimat C/Dept C"

# Flask endpoint → the path in the OpenAPI document.
TEMPLATES = {
    "api.openapi": "/openapi.json",
    "api.courses": "/courses",
    "api.completions": "/completions",
    "api.transcript": "/users/{id}/transcript",
    "api.statements": "/xapi/statements",
}
DOCUMENT = openapi_document()
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    """RFC 3339 date-time with a zone (jsonschema checks it only with an extra package)."""
    if not isinstance(value, str):
        return True
    if "T" not in value or not (value.endswith("Z") or value[-6] in "+-"):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True
REGISTRY = Registry().with_resource(
    "urn:kelisim-api", Resource.from_contents(DOCUMENT, DRAFT202012)
)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def response_schema_pointer(endpoint: str | None, status: int) -> str:
    """JSON pointer (in the document) to the schema of this answer."""
    if endpoint not in TEMPLATES:  # e.g. an unknown path under /api/: the generic error
        return "/components/schemas/Error"
    template = TEMPLATES[endpoint]
    responses = DOCUMENT["paths"][template]["get"]["responses"]
    key = str(status) if str(status) in responses else "default"
    response = responses[key]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        return "/" + _pointer(
            "components", "responses", name, "content", "application/json", "schema"
        )
    return "/" + _pointer(
        "paths", template, "get", "responses", key, "content", "application/json", "schema"
    )


def validate_answer(endpoint: str | None, status: int, body) -> None:
    pointer = response_schema_pointer(endpoint, status)
    validator = Draft202012Validator(
        {"$ref": f"urn:kelisim-api#{pointer}"},
        registry=REGISTRY,
        format_checker=FORMATS,
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{endpoint} {status}: {[e.message for e in errors][:5]}"


@pytest.fixture(autouse=True)
def check_every_api_answer(app):
    """Validate every /api/ answer of every test here against the OpenAPI document."""
    answers = []

    def collect(sender, response, **_extra):
        if request.path.startswith("/api/"):
            answers.append(
                (
                    request.endpoint,
                    response.status_code,
                    response.get_json(silent=True),
                    response.headers.get("Content-Type", ""),
                )
            )

    request_finished.connect(collect, app)
    yield answers
    request_finished.disconnect(collect, app)
    for endpoint, status, body, content_type in answers:
        assert content_type.startswith("application/json"), (endpoint, status, content_type)
        validate_answer(endpoint, status, body)


def test_document_is_consistent(app):
    for name, schema in DOCUMENT["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    api_endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert api_endpoints == set(TEMPLATES)
    assert set(DOCUMENT["paths"]) == set(TEMPLATES.values())
    for path, item in DOCUMENT["paths"].items():
        responses = item["get"]["responses"]
        assert "200" in responses and "default" in responses, path
    assert DOCUMENT["openapi"].startswith("3.1")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def org(app, make_user, sample_course):
    """People in four units with completions, and tokens for HR of the akimat and an admin."""
    ids = {
        "dept_a": make_user("learner", org=DEPT_A, name="Айгерим A", email="a@example.kz")[0],
        "dept_b": make_user("learner", org=DEPT_B, name="Bolat B", email="b@example.kz")[0],
        "akimat": make_user("learner", org=AKIMAT_A, name="Chingiz C", email="c@example.kz")[0],
        "region_b": make_user("learner", org=REGION_B, name="Dana D", email="d@example.kz")[0],
    }
    make_user("hr", org=AKIMAT_A, email="hr@example.kz")
    make_user("hr", org=DEPT_A, email="hr-dept@example.kz")
    make_user("admin", org="Admin Unit", email="admin@example.kz")
    make_user("trainer", org=AKIMAT_A, email="trainer@example.kz")
    with app.app_context():
        for key, user_id in ids.items():
            complete(user_id, score=80 + len(key))
        assign_unit(DEPT_A)
        tokens = {
            email.split("@")[0]: api_token(email)
            for email in ("hr@example.kz", "hr-dept@example.kz", "admin@example.kz")
        }
    return ids, tokens


def get(client, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, **kwargs)


# --------------------------------------------------------------------------- tokens


def test_token_cli_prints_the_token_last_and_keeps_only_its_hash(app, runner, make_user):
    make_user("hr", org=DEPT_A, email="hr@example.kz")
    result = runner.invoke(args=["api-tokens", "create", "HR@example.kz", "--name", "1C:HR"])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    assert len(token) > 30
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash != token and token not in row.token_hash and row.name == "1C:HR"
        assert db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.action == "api_token.create")
        )
    client = app.test_client()
    assert get(client, "/api/v1/courses", token).status_code == 200
    listing = runner.invoke(args=["api-tokens", "list"])
    assert token not in listing.output and "hr@example.kz" in listing.output
    assert runner.invoke(args=["api-tokens", "revoke", str(row.id)]).exit_code == 0
    answer = get(client, "/api/v1/courses", token)
    assert answer.status_code == 401 and "revoked" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.kz", "No user"),
        ("learner@example.kz", "only for active hr or admin"),
    ],
)
def test_token_cli_refuses(app, runner, make_user, email, message):
    make_user("learner", email="learner@example.kz")
    result = runner.invoke(args=["api-tokens", "create", email])
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_token_narrowed_to_a_unit(app, runner, org):
    result = runner.invoke(args=["api-tokens", "create", "hr@example.kz", "--unit", DEPT_A])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    completions = get(app.test_client(), "/api/v1/completions", token).get_json()["completions"]
    assert {c["user"]["email"] for c in completions} == {"a@example.kz"}
    outside = runner.invoke(args=["api-tokens", "create", "hr-dept@example.kz", "--unit", AKIMAT_A])
    assert outside.exit_code != 0


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        "Bearer " + "x" * 5000,
        "Token abc",
    ],
)
def test_missing_or_bad_token_is_401(client, org, header):
    headers = {"Authorization": header} if header is not None else {}
    for path in (
        "/api/v1/courses",
        "/api/v1/completions",
        "/api/v1/xapi/statements",
        "/api/v1/users/1/transcript",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, (path, header)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.get_json()["error"]["status"] == 401


def test_a_session_cookie_is_not_a_credential(client, login_as, org):
    login_as("admin", org="Admin Unit")
    assert client.get("/").status_code == 200  # logged in in the browser
    answer = client.get("/api/v1/courses")
    assert answer.status_code == 401
    assert "Set-Cookie" not in answer.headers


def test_token_of_demoted_owner_is_403(app, client, org):
    ids, tokens = org
    with app.app_context():
        from learning.accounts.models import User

        db.session.execute(
            sa.update(User).where(User.email == "hr@example.kz").values(role="learner")
        )
        db.session.commit()
    assert get(client, "/api/v1/courses", tokens["hr"]).status_code == 403


def test_last_used_is_recorded_and_no_cookie_set(app, client, org):
    _ids, tokens = org
    answer = get(client, "/api/v1/courses", tokens["hr"])
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    with app.app_context():
        row = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.owner.has(email="hr@example.kz"))
        )
        assert row.last_used_at is not None


def test_post_is_not_allowed_and_needs_no_csrf(client, org):
    _ids, tokens = org
    answer = client.post("/api/v1/courses", headers={"Authorization": f"Bearer {tokens['hr']}"})
    assert answer.status_code == 405  # not a CSRF 400: the API takes no cookies


# --------------------------------------------------------------------------- endpoints


def test_openapi_is_public(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.get_json()["openapi"] == "3.1.0"


def test_courses(client, org):
    _ids, tokens = org
    courses = get(client, "/api/v1/courses", tokens["hr"]).get_json()["courses"]
    assert [c["slug"] for c in courses] == ["sample"]
    assert courses[0]["title"]["en"] == "Sample course" and courses[0]["validity_months"] == 12


@pytest.mark.parametrize(
    ("token", "emails"),
    [
        ("hr", {"a@example.kz", "b@example.kz", "c@example.kz"}),
        ("hr-dept", {"a@example.kz"}),
        ("admin", {"a@example.kz", "b@example.kz", "c@example.kz", "d@example.kz"}),
    ],
)
def test_completions_are_scoped(client, org, token, emails):
    _ids, tokens = org
    completions = get(client, "/api/v1/completions", tokens[token]).get_json()["completions"]
    assert {c["user"]["email"] for c in completions} == emails
    assert all(
        c["status"] == "valid" and c["verify_url"].endswith(c["certificate_code"])
        for c in completions
    )


def test_completions_filters_and_cursor(app, client, org):
    ids, tokens = org
    token = tokens["admin"]
    seen, cursor = [], None
    while True:
        query = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = get(client, "/api/v1/completions", token, query_string=query).get_json()
        seen += [c["id"] for c in page["completions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and seen == sorted(seen)
    with app.app_context():
        akimat = unit_id(AKIMAT_A)
    by_unit = get(client, f"/api/v1/completions?unit={akimat}", token).get_json()["completions"]
    assert {c["user"]["email"] for c in by_unit} == {"a@example.kz", "b@example.kz", "c@example.kz"}
    assert (
        len(
            get(client, "/api/v1/completions?course=sample&status=valid", token).get_json()[
                "completions"
            ]
        )
        == 4
    )
    assert get(client, "/api/v1/completions?status=revoked", token).get_json()["completions"] == []
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert (
        get(client, "/api/v1/completions", token, query_string={"since": future}).get_json()[
            "completions"
        ]
        == []
    )
    assert (
        len(get(client, "/api/v1/completions?since=2020-01-01", token).get_json()["completions"])
        == 4
    )


def _cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "cursor=!!!",
        "cursor=abc",
        "cursor=" + _cursor({"v": 1, "k": "statements", "after": 1}),
        "cursor=" + _cursor({"v": 1, "k": "completions", "after": -1}),
        "cursor=" + _cursor({"v": 1, "k": "completions", "after": "1"}),
        "cursor=" + _cursor([1, 2]),
        "cursor=" + "A" * 300,
        "limit=0",
        "limit=1001",
        "limit=ten",
        "status=done",
        "since=yesterday",
        "since=0001-01-01T00:00:00+05:00",
        "unit=abc",
        "unit=999999",
        "unit=99999999999999999999",
        "course=nope",
        "course=" + "x" * 500,
        "colour=blue",
        "limit=1&limit=2",
    ],
)
def test_bad_completion_parameters_are_400(client, org, query):
    _ids, tokens = org
    answer = get(client, "/api/v1/completions?" + query, tokens["hr"])
    assert answer.status_code == 400, query
    assert answer.get_json()["error"]["message"]


def test_unit_outside_scope_is_400_like_an_unknown_one(app, client, org):
    _ids, tokens = org
    with app.app_context():
        other = unit_id(REGION_B)
    answer = get(client, f"/api/v1/completions?unit={other}", tokens["hr"])
    assert answer.status_code == 400
    assert (
        get(client, "/api/v1/completions?unit=999999", tokens["hr"])
        .get_json()["error"]["message"]
        .replace("999999", str(other))
        == answer.get_json()["error"]["message"]
    )


def test_transcript(client, org):
    ids, tokens = org
    answer = get(client, f"/api/v1/users/{ids['dept_a']}/transcript", tokens["hr"])
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["user"]["email"] == "a@example.kz"
    assert body["courses"][0]["status"] == "completed" and body["courses"][0]["is_assigned"]
    assert len(body["records"]) == 1
    for key in ("region_b",):
        assert get(client, f"/api/v1/users/{ids[key]}/transcript", tokens["hr"]).status_code == 404
    assert (
        get(client, f"/api/v1/users/{ids['dept_b']}/transcript", tokens["hr-dept"]).status_code
        == 404
    )
    assert (
        get(client, f"/api/v1/users/{ids['akimat']}/transcript", tokens["hr-dept"]).status_code
        == 404
    )
    assert (
        get(client, "/api/v1/users/99999999999999999999/transcript", tokens["admin"]).status_code
        == 404
    )
    assert get(client, "/api/v1/users/abc/transcript", tokens["admin"]).status_code == 404


def test_statements_stream(app, client, org):
    ids, tokens = org
    body = get(client, "/api/v1/xapi/statements", tokens["hr"]).get_json()
    actors = {s["actor"]["mbox"] for s in body["statements"]}
    assert actors == {"mailto:a@example.kz", "mailto:b@example.kz", "mailto:c@example.kz"}
    assert body["more"] == ""
    answer = get(client, "/api/v1/xapi/statements?limit=1", tokens["admin"])
    assert answer.headers["X-Experience-API-Version"] == "1.0.3"
    collected, more = [], answer.get_json()
    while True:
        collected += more["statements"]
        if not more["more"]:
            break
        assert more["more"].startswith("/api/v1/xapi/statements?")
        more = get(client, more["more"], tokens["admin"]).get_json()
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count(Statement.seq)))
    assert len(collected) == total and len({s["id"] for s in collected}) == total
    stored = sorted(s["stored"] for s in collected)
    # since is exclusive, until inclusive (xAPI)
    after_first = get(
        client,
        "/api/v1/xapi/statements",
        tokens["admin"],
        query_string={"since": stored[0], "until": stored[-1]},
    ).get_json()["statements"]
    assert len(after_first) == len([s for s in stored if s > stored[0]])


@pytest.mark.parametrize(
    "query",
    [
        "since=soon",
        "until=2026-02-30",
        "cursor=zzz",
        "limit=501",
        "verb=completed",
        "cursor=" + _cursor({"v": 1, "k": "completions", "after": 1}),
    ],
)
def test_bad_statement_parameters_are_400(client, org, query):
    _ids, tokens = org
    assert get(client, "/api/v1/xapi/statements?" + query, tokens["hr"]).status_code == 400


def test_unknown_api_path_is_json_404(client, org):
    _ids, tokens = org
    answer = get(client, "/api/v1/nothing-here", tokens["hr"])
    assert answer.status_code == 404 and answer.get_json()["error"]["status"] == 404


def test_enrolled_without_completion_shows_in_transcript(app, client, org, make_user):
    _ids, tokens = org
    user_id, _ = make_user("learner", org=DEPT_A, email="e@example.kz")
    with app.app_context():
        enroll(user_id)
    courses = get(client, f"/api/v1/users/{user_id}/transcript", tokens["hr"]).get_json()["courses"]
    assert [c["status"] for c in courses] == ["in_progress"]
