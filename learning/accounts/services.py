"""Accounts: password hashing (argon2id), users, organisation units and login sessions."""

from __future__ import annotations

import collections
import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, request

from learning.accounts.models import LANGUAGES, ROLES, AuthSession, OrgUnit, User
from learning.db import RowLoader, utcnow
from learning.extensions import db
from learning.i18n import N_, UserError
from learning.prepared import Prepared
from learning.validation import is_digits

# OWASP: argon2id, 19 MiB, t=2, p=1 is the minimum; we use more memory.
password_hasher = PasswordHasher(time_cost=2, memory_cost=47104, parallelism=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the e-mail is unknown, so a wrong e-mail costs as much as a wrong password."""
    return password_hasher.hash("kelisim-no-such-user")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class AccountError(UserError):
    """A domain error with a message fit to show the user (a msgid: see UserError)."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str = "", name: str = "") -> AccountError | None:
    """Why a new password is refused (NIST 800-63B: length and a blocklist, no composition rules).

    Returns the error to raise (its message translates where it is shown), or None.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return AccountError(N_("Use at least %(count)d characters."), count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return AccountError(N_("Use at most %(count)d characters."), count=MAX_PASSWORD_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) < 4:
        return AccountError(N_("This password is too common or too easy to guess. Choose another."))
    local_part = email.split("@")[0].lower()
    if local_part and len(local_part) >= 4 and local_part in lowered:
        return AccountError(N_("Do not use your e-mail address in your password."))
    return None


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists."""
    if user is None:
        try:
            password_hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return False
    try:
        password_hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def ensure_org_path(path: str) -> OrgUnit:
    """Return the unit at "Region/Akimat/Department", creating missing levels."""
    names = [part.strip() for part in path.split("/") if part.strip()]
    if not names:
        raise AccountError(N_("An organisation path needs at least one name, e.g. 'Region/Akimat'."))
    if any(len(name) > 200 for name in names):
        raise AccountError(N_("An organisation name can have at most %(count)d characters."), count=200)
    parent: OrgUnit | None = None
    for name in names:
        unit = db.session.scalar(
            sa.select(OrgUnit).where(
                OrgUnit.name == name,
                OrgUnit.parent_id.is_(None) if parent is None else OrgUnit.parent_id == parent.id,
            )
        )
        if unit is None:
            unit = OrgUnit(
                name=name,
                parent_id=parent.id if parent else None,
                path=f"pending-{secrets.token_hex(8)}",
                full_name=f"{parent.full_name} / {name}" if parent else name,
            )
            db.session.add(unit)
            db.session.flush()
            unit.path = f"{parent.path if parent else '/'}{unit.id}/"
            db.session.flush()
        parent = unit
    return parent


def create_user(
    email: str,
    *,
    role: str,
    org_path: str,
    name: str | None = None,
    password: str | None = None,
    language: str | None = None,
) -> tuple[User, str | None]:
    """Create a user; returns (user, generated password or None when one was given)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError(N_("Not an e-mail address: %(email)s."), email=repr(email))
    if role not in ROLES:
        raise AccountError(N_("Unknown role %(role)s; choose one of %(roles)s."),
                           role=repr(role), roles=", ".join(ROLES))
    if language is not None and language not in LANGUAGES:
        raise AccountError(N_("Unknown language %(language)s."), language=repr(language))
    if find_user_by_email(email) is not None:
        raise AccountError(N_("A user with the e-mail %(email)s already exists."), email=email)
    generated = None
    if password is None:
        generated = password = generate_password()
    problem = password_problem(password, email=email)
    if problem:
        raise problem
    unit = ensure_org_path(org_path)
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip()[:200],
        password_hash=hash_password(password),
        role=role,
        org_unit_id=unit.id,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    return user, generated


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, ip_address: str = "", user_agent: str = "") -> str:
    """Record a new login and return the token to keep in the session cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthSession(
            id=_token_id(token),
            user_id=user.id,
            ip_address=ip_address[:64],
            user_agent=user_agent[:300],
        )
    )
    return token


def end_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == _token_id(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_other_sessions(user: User, keep_token: str | None) -> int:
    """Revoke every login of `user` except the one holding `keep_token` (None: all)."""
    statement = sa.update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if keep_token:
        statement = statement.where(AuthSession.id != _token_id(keep_token))
    return db.session.execute(statement.values(revoked_at=utcnow())).rowcount


_USERS = RowLoader(User)
_LIVE_LOGIN = (
    User.id == sa.bindparam("user_id"),
    AuthSession.id == sa.bindparam("session_id"),
    AuthSession.revoked_at.is_(None),
    User.is_active_account.is_(True),
)
_SESSION_USER = Prepared(
    sa.select(*_USERS.columns()).join(AuthSession.__table__, AuthSession.user_id == User.id)
    .where(*_LIVE_LOGIN)
)
_USER_PREFIX = "session_user__"


class PageQuery:
    """A page's first query, read in the same statement as the session user (one round trip
    fewer on every request of that page: the lesson page's course, enrolment and progress).

    `statement` selects what the page reads for the user `:user_id`; `params(view_args)`
    gives its other parameters from the URL (None when the URL cannot match, and the user is
    then loaded alone). A view declares it with `@reads_with_session_user(page_query)`; the
    user loader runs the combined statement, and the view takes the rows with `rows(...)`
    (None when they were not read with the user: a test client's login, an API request).
    Nothing of the page is read when the login is not live: the rows come only with a user.
    """

    def __init__(self, statement, params) -> None:
        self.statement = statement  # a Select, or a function of the database kind making it
        self.params = params
        self.row_type = None
        self._width = len(_USERS.fields)
        self.combined = Prepared(self._combined)

    def _combined(self, dialect: str) -> sa.Select:
        statement = self.statement if isinstance(self.statement, sa.Select) else self.statement(dialect)
        page = statement.subquery("page")
        if self.row_type is None:  # the same names on every database
            self.row_type = collections.namedtuple("PageRow", [column.key for column in page.c])
        return (
            sa.select(*_USERS.columns(_USER_PREFIX), *page.c)
            .select_from(User.__table__.join(AuthSession.__table__, AuthSession.user_id == User.id)
                         .outerjoin(page, sa.true()))
            .where(*_LIVE_LOGIN)
        )

    def load(self, user_id: int, session_id: str, params: dict) -> User | None:
        rows = self.combined.all(user_id=user_id, session_id=session_id, **params)
        if not rows:
            return None
        page = [self.row_type._make(row[self._width:]) for row in rows]
        # The outer join gives one row of NULLs when the page's query matches nothing.
        if len(page) == 1 and all(value is None for value in page[0]):
            page = []
        g._page_rows = (self, {**params, "user_id": user_id}, page)
        # These pages rarely use the Session: the user joins it when one opens.
        return _USERS.load_when_needed(db.session, rows[0], _USER_PREFIX)

    def rows(self, **params) -> list | None:
        """The rows read with the session user for these parameters, or None."""
        held = g.get("_page_rows")
        if held is None or held[0] is not self or held[1] != params:
            return None
        return held[2]


def reads_with_session_user(page_query: PageQuery):
    """Mark a view whose first query is read with the session user (see PageQuery)."""
    def mark(view):
        view.page_query = page_query
        return view
    return mark


def load_session_user(user_id: str, token: str | None) -> User | None:
    """The user of a live login: one prepared query joining the user and their session row
    (it runs on every request), with the page's first query when the view declares one;
    the unit loads when asked for."""
    if not token or not is_digits(user_id):
        return None
    session_id = _token_id(token)
    page_query = getattr(current_app.view_functions.get(request.endpoint or ""), "page_query", None)
    if page_query is not None:
        params = page_query.params(request.view_args or {})
        if params is not None:
            return page_query.load(int(user_id), session_id, params)
    row = _SESSION_USER.first(user_id=int(user_id), session_id=session_id)
    return _USERS.load(db.session, row) if row is not None else None


def change_password(user: User, current: str, new: str, keep_token: str | None) -> None:
    if not verify_password(user, current):
        raise AccountError(N_("Your current password is not correct."))
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        raise problem
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_other_sessions(user, keep_token)
