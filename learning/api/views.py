"""The read-only HR API, /api/v1: bearer tokens only (no cookies, so no CSRF), JSON errors.

Every answer is described by /api/v1/openapi.json, and the tests check each one against it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException

from learning.accounts.models import OrgUnit, User
from learning.api import services
from learning.api.openapi import openapi_document
from learning.content.models import SLUG_LENGTH, Course, CourseRevision
from learning.db import utcnow
from learning.extensions import csrf, db, login_manager
from learning.hr import queries
from learning.progress.models import CompletionRecord, RecordRevocation, Statement
from learning.progress.xapi import XAPI_VERSION
from learning.validation import is_digits

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_ID = 2**31 - 1
RECORD_STATUSES = ("valid", "expired", "revoked")


class ApiError(HTTPException):
    """A JSON error answer with a clear message."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(description=message)
        self.code = status
        self.extra_headers = headers or {}


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    body = {"error": {"status": error.code, "message": error.description}}
    return body, error.code, {"Cache-Control": "no-store", **error.extra_headers}


@bp.before_app_request
def _no_cookie_login():
    # The API never authenticates by the session cookie: current_user stays anonymous
    # until a bearer token names its owner.
    if request.path.startswith("/api/"):
        g._login_user = login_manager.anonymous_user()


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return
    try:
        caller = services.authenticate(request.headers.get("Authorization"))
    except services.AuthError as error:
        headers = {"WWW-Authenticate": 'Bearer realm="kelisim"'} if error.status == 401 else {}
        raise ApiError(error.status, error.message, headers) from None
    services.note_use(caller)
    g.api_caller = caller
    g._login_user = caller.owner


@bp.after_request
def _headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    return response


def _caller() -> services.Caller:
    return g.api_caller


# --------------------------------------------------------------------------- parameters


def _allowed_params(*names: str) -> None:
    unknown = sorted(set(request.args) - set(names))
    if unknown:
        raise ApiError(
            400,
            f"Unknown parameter: {', '.join(unknown)[:200]}. "
            f"Allowed: {', '.join(names) or 'none'}.",
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise ApiError(400, f"Parameter given more than once: {', '.join(repeated)}.")


def _limit(default: int, maximum: int) -> int:
    value = request.args.get("limit")
    if value is None:
        return default
    if not is_digits(value) or not 1 <= int(value) <= maximum:
        raise ApiError(400, f"limit must be an integer from 1 to {maximum}.")
    return int(value)


def _timestamp(name: str):
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return services.parse_timestamp(value)
    except (ValueError, OverflowError):
        raise ApiError(
            400, f"{name} must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z."
        ) from None


def _cursor(kind: str) -> int:
    value = request.args.get("cursor")
    if value is None:
        return 0
    try:
        return services.decode_cursor(kind, value)
    except services.CursorError:
        raise ApiError(
            400, "Malformed cursor: pass back the cursor of the previous page unchanged."
        ) from None


def _unit_filter() -> OrgUnit | None:
    value = request.args.get("unit")
    if value is None:
        return None
    if not is_digits(value) or int(value) > MAX_ID:
        raise ApiError(400, "unit must be a unit id (an integer).")
    try:
        return queries.unit_in_scope(_caller().scope, int(value))
    except queries.OutOfScope:
        raise ApiError(400, f"Unknown unit {value} (or not within this token's units).") from None


def _course_filter() -> Course | None:
    value = request.args.get("course")
    if value is None:
        return None
    course = db.session.scalar(sa.select(Course).where(Course.slug == value[:SLUG_LENGTH]))
    if course is None or len(value) > SLUG_LENGTH:
        raise ApiError(400, "Unknown course (give its slug, as listed by /api/v1/courses).")
    return course


# --------------------------------------------------------------------------- representations


def _user_ref(user_id, email, name, unit_id, unit_name) -> dict:
    return {"id": user_id, "email": email, "name": name, "unit": {"id": unit_id, "name": unit_name}}


def _record_status(record: CompletionRecord, revoked_at) -> str:
    if revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= utcnow():
        return "expired"
    return "valid"


def _completion(record, revoked_at, user_id, email, name, unit_id, unit_name, slug, number) -> dict:
    base = current_app.config["BASE_URL"].rstrip("/")
    return {
        "id": record.id,
        "user": _user_ref(user_id, email, name, unit_id, unit_name),
        "course": {"slug": slug, "revision": number},
        "completed_at": services.iso(record.completed_at),
        "score": record.score,
        "expires_at": services.iso(record.expires_at),
        "status": _record_status(record, revoked_at),
        "revoked_at": services.iso(revoked_at),
        "certificate_code": record.certificate_code,
        "verify_url": f"{base}/verify/{record.certificate_code}",
    }


def _completions_query(scope: queries.Scope):
    return (
        sa.select(
            CompletionRecord,
            RecordRevocation.revoked_at,
            User.id,
            User.email,
            User.name,
            OrgUnit.id,
            OrgUnit.full_name,
            Course.slug,
            CourseRevision.number,
        )
        .join(User, User.id == CompletionRecord.user_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Course, Course.id == CompletionRecord.course_id)
        .join(CourseRevision, CourseRevision.id == CompletionRecord.revision_id)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .where(OrgUnit.path.startswith(scope.path) if scope.path is not None else sa.true())
    )


# --------------------------------------------------------------------------- endpoints


@bp.route("/openapi.json")
def openapi():
    return openapi_document(current_app.config["BASE_URL"])


@bp.route("/courses")
def courses():
    _allowed_params()
    rows = db.session.execute(
        sa.select(
            Course.id,
            Course.slug,
            Course.is_archived,
            CourseRevision.number,
            CourseRevision.content_hash,
            CourseRevision.published_at,
            CourseRevision.structure["title"].label("title"),
            CourseRevision.structure["languages"].label("languages"),
            CourseRevision.structure["validity_months"].label("validity_months"),
        )
        .join(CourseRevision, CourseRevision.id == Course.current_revision_id)
        .order_by(Course.slug)
    )
    return {
        "courses": [
            {
                "id": row.id,
                "slug": row.slug,
                "title": dict(row.title or {}),
                "languages": list(row.languages or []),
                "revision": row.number,
                "content_hash": row.content_hash,
                "published_at": services.iso(row.published_at),
                "validity_months": row.validity_months
                if isinstance(row.validity_months, int)
                else None,
                "is_archived": row.is_archived,
            }
            for row in rows
        ]
    }


@bp.route("/completions")
def completions():
    _allowed_params("unit", "course", "status", "since", "cursor", "limit")
    limit = _limit(100, 1000)
    after = _cursor("completions")
    since = _timestamp("since")
    status = request.args.get("status")
    if status is not None and status not in RECORD_STATUSES:
        raise ApiError(400, f"status must be one of: {', '.join(RECORD_STATUSES)}.")
    unit, course = _unit_filter(), _course_filter()
    query = _completions_query(_caller().scope).where(CompletionRecord.id > after)
    if unit is not None:
        query = query.where(OrgUnit.path.startswith(unit.path))
    if course is not None:
        query = query.where(CompletionRecord.course_id == course.id)
    if since is not None:
        query = query.where(CompletionRecord.completed_at >= since)
    now = utcnow()
    if status == "revoked":
        query = query.where(RecordRevocation.id.is_not(None))
    elif status == "expired":
        query = query.where(RecordRevocation.id.is_(None), CompletionRecord.expires_at <= now)
    elif status == "valid":
        query = query.where(
            RecordRevocation.id.is_(None),
            sa.or_(CompletionRecord.expires_at.is_(None), CompletionRecord.expires_at > now),
        )
    rows = db.session.execute(query.order_by(CompletionRecord.id).limit(limit + 1)).all()
    items = [_completion(*row) for row in rows[:limit]]
    next_cursor = (
        services.encode_cursor("completions", rows[limit - 1][0].id) if len(rows) > limit else None
    )
    return {"completions": items, "next_cursor": next_cursor}


@bp.route("/users/<int:user_id>/transcript")
def transcript(user_id: int):
    _allowed_params()
    scope = _caller().scope
    if user_id > MAX_ID:
        raise ApiError(404, "No such user within this token's units.")
    try:
        person = queries.person_in_scope(scope, user_id)
    except queries.OutOfScope:
        raise ApiError(404, "No such user within this token's units.") from None
    rows, _more = queries.report_page(
        scope, queries.ReportFilters(user_id=person.id, sort="course"), page=1, per_page=1000
    )
    records = db.session.execute(
        _completions_query(scope)
        .where(CompletionRecord.user_id == person.id)
        .order_by(CompletionRecord.completed_at.desc(), CompletionRecord.id.desc())
    ).all()
    return {
        "user": _user_ref(
            person.id, person.email, person.name, person.org_unit.id, person.org_unit.full_name
        ),
        "courses": [
            {
                "course": row.course_slug,
                "status": row.status,
                "is_assigned": row.is_assigned,
                "due_on": row.due_on.isoformat() if row.due_on else None,
                "enrolled_at": services.iso(row.enrolled_at),
                "percent_complete": row.percent_complete,
                "completed_at": services.iso(row.completed_at),
                "score": row.score,
                "expires_at": services.iso(row.expires_at),
                "attempts": row.attempts,
            }
            for row in rows
        ],
        "records": [_completion(*row) for row in records],
    }


@bp.route("/xapi/statements")
def statements():
    _allowed_params("since", "until", "cursor", "limit")
    limit = _limit(100, 500)
    after = _cursor("statements")
    since, until = _timestamp("since"), _timestamp("until")
    scope = _caller().scope
    query = (
        sa.select(Statement.seq, Statement.stored_at, Statement.data)
        .join(User, User.id == Statement.user_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(Statement.seq > after)
    )
    if scope.path is not None:
        query = query.where(OrgUnit.path.startswith(scope.path))
    if since is not None:
        query = query.where(Statement.stored_at > since)  # xAPI: since is exclusive
    if until is not None:
        query = query.where(Statement.stored_at <= until)  # and until inclusive
    rows = db.session.execute(query.order_by(Statement.seq).limit(limit + 1)).all()
    more = ""
    if len(rows) > limit:
        params = {
            key: request.args[key] for key in ("since", "until", "limit") if key in request.args
        }
        params["cursor"] = services.encode_cursor("statements", rows[limit - 1].seq)
        more = url_for("api.statements") + "?" + urlencode(params)
    result = {
        "statements": [{**row.data, "stored": services.iso(row.stored_at)} for row in rows[:limit]],
        "more": more,
    }
    return result, 200, {"X-Experience-API-Version": XAPI_VERSION}
