"""Access rules (roles, unit scope), safe redirects and security headers."""

from __future__ import annotations

import re
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Allow the view only to logged-in users with one of `roles` (anonymous → login, else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def writes_on_get(view):
    """Mark a GET view that writes, so its SQLite transaction begins IMMEDIATE."""
    view.writes_on_get = True
    return view


def unit_in_scope(user, unit) -> bool:
    """Whether `user` may see people of `unit`: admins see all; HR their unit and below."""
    if user.role == "admin":
        return True
    if user.role == "hr":
        return unit.path.startswith(user.org_unit.path)
    return False


def safe_next_url(target: str | None) -> str | None:
    """Return `target` if it stays on this site (a path, not //host or a scheme), else None."""
    if not target or len(target) > 2000:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Fields that legitimately repeat: checkboxes of multiple-response quiz questions.
REPEATABLE_FIELDS = re.compile(r"q\d{1,4}")


def register_input_guards(app) -> None:
    """Refuse a request that sends a single-valued field twice (a 400, before any view runs)."""

    @app.before_request
    def _refuse_duplicate_fields():
        # NUL is never text a person typed, and PostgreSQL cannot store it in a text column.
        current = request._get_current_object()
        if "\x00" in current.path:
            abort(404)
        if current.method in {"GET", "HEAD"} and not current.query_string:
            return  # no fields to check (most page views)
        for source in (current.args, current.form if current.method not in {"GET", "HEAD"} else None):
            if not source:
                continue
            for key, values in source.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    abort(400, description=_l("The form contains a character that is not allowed."))
                if len(values) > 1 and not REPEATABLE_FIELDS.fullmatch(key):
                    abort(400, description=_l("A field was sent more than once."))


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
     "form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


_LOWERED = tuple((name.lower(), (name, value)) for name, value in SECURITY_HEADERS)
_LOWERED_WITH_HSTS = (*_LOWERED, (HSTS[0].lower(), HSTS))


def register_security_headers(app) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response):
        headers = response.headers
        # A view may set its own (the sandbox CSP of uploaded media): keep those. One pass over
        # the names already set instead of a search per header.
        present = {name.lower() for name, _value in headers}
        defaults = _LOWERED_WITH_HSTS if current_app.config.get("SESSION_COOKIE_SECURE") else _LOWERED
        headers.extend([header for lowered, header in defaults if lowered not in present])
        if request.endpoint != "static" and "cache-control" not in present:
            headers["Cache-Control"] = "no-store" if current_user_is_authenticated() else "no-cache"
        return response


def current_user_is_authenticated() -> bool:
    try:
        user = current_user._get_current_object()
        return bool(user is not None and user.is_authenticated)
    except Exception:  # the database may be down while answering an error
        return False


_IDENTIFIERS: dict[tuple, str] = {}
IDENTIFIERS_KEPT = 4096


def session_identifier() -> str:
    """Flask-Login's session identifier (a SHA-512 of the client's address and user agent,
    for its session protection), remembered per worker for the pair it depends on: every
    request of a logged-in user checks it."""
    from flask_login.utils import _create_identifier

    environ = request.environ
    key = (environ.get("HTTP_X_FORWARDED_FOR"), environ.get("REMOTE_ADDR"),
           environ.get("HTTP_USER_AGENT"))
    identifier = _IDENTIFIERS.get(key)
    if identifier is None:
        if len(_IDENTIFIERS) >= IDENTIFIERS_KEPT:
            _IDENTIFIERS.clear()
        identifier = _IDENTIFIERS[key] = _create_identifier()
    return identifier
