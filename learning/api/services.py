"""API tokens (created, checked, revoked) and the cursors of paginated answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from learning.accounts.models import OrgUnit, User
from learning.api.models import ApiToken
from learning.db import utcnow, write_intent
from learning.extensions import db
from learning.hr.queries import Scope

TOKEN_PREFIX = "klsm_"
MAX_TOKEN_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=5)  # last_used_at is written at most this often


class TokenError(ValueError):
    """A token that cannot be created (unknown owner, wrong role, unit out of scope)."""


class AuthError(Exception):
    """A request whose token is missing, unknown, revoked or whose owner may not use the API."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    email: str, *, name: str = "", unit_path: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the hr/admin user `email`; returns (row, the token shown once)."""
    from learning.accounts.services import find_user_by_email

    owner = find_user_by_email(email)
    if owner is None:
        raise TokenError(f"No user with the e-mail {email.strip().lower()}.")
    if owner.role not in ("hr", "admin") or not owner.is_active_account:
        raise TokenError("API tokens are only for active hr or admin users.")
    unit = None
    if unit_path is not None:
        unit = _unit_by_names(unit_path)
        if unit is None or not (owner.role == "admin" or unit.path.startswith(owner.org_unit.path)):
            raise TokenError(f"No unit {unit_path!r} within the owner's units.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(token),
        prefix=token[:12],
        name=name.strip()[:200],
        owner_id=owner.id,
        org_unit_id=unit.id if unit else None,
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def _unit_by_names(path: str) -> OrgUnit | None:
    names = [part.strip() for part in path.split("/") if part.strip()]
    unit = None
    for name in names:
        unit = db.session.scalar(
            sa.select(OrgUnit).where(
                OrgUnit.name == name,
                OrgUnit.parent_id.is_(None) if unit is None else OrgUnit.parent_id == unit.id,
            )
        )
        if unit is None:
            return None
    return unit


def revoke_token(token_id: int) -> ApiToken | None:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    return row


@dataclass(frozen=True)
class Caller:
    token_id: int
    owner: User
    scope: Scope


def authenticate(header: str | None) -> Caller:
    """Check an `Authorization: Bearer …` header; the scope is the owner's units (narrowed
    to the token's unit), judged now, so a role or unit change takes effect at once."""
    if not header:
        raise AuthError(401, "Send an API token: Authorization: Bearer <token>.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthError(401, "The Authorization header must be: Bearer <token>.")
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        raise AuthError(401, "Unknown API token.")
    if row.revoked_at is not None:
        raise AuthError(401, "This API token has been revoked.")
    owner = row.owner
    if not owner.is_active_account or owner.role not in ("hr", "admin"):
        raise AuthError(403, "The owner of this token may no longer use the API.")
    scope = Scope(None if owner.role == "admin" else owner.org_unit.path)
    if row.org_unit_id is not None:
        if not scope.covers(row.org_unit):
            raise AuthError(403, "This token's unit is no longer within its owner's units.")
        scope = Scope(row.org_unit.path)
    return Caller(row.id, owner, scope)


def note_use(caller: Caller) -> None:
    """Record last use, at most every few minutes, in a short transaction of its own.

    The API only reads; on SQLite this write begins IMMEDIATE so it never fails half-way
    through a read transaction.
    """
    db.session.rollback()
    now = utcnow()
    token = write_intent.set(True)
    try:
        db.session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == caller.token_id,
                sa.or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at < now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
        )
        db.session.commit()
    finally:
        write_intent.reset(token)


# --------------------------------------------------------------------------- cursors


class CursorError(ValueError):
    """A cursor this API did not make (or made for another list)."""


def encode_cursor(kind: str, after: int) -> str:
    raw = json.dumps({"v": 1, "k": kind, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> int:
    if len(cursor) > 200:
        raise CursorError("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise CursorError("malformed cursor") from error
    after = data.get("after") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("v") != 1
        or data.get("k") != kind
        or not isinstance(after, int)
        or isinstance(after, bool)
        or not 0 <= after < 2**63
    ):
        raise CursorError("malformed cursor")
    return after


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 date-time (a date alone means its midnight); naive means UTC."""
    if len(value) > 40:
        raise ValueError("too long")
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
