"""Users, roles, organisation units and login sessions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import UTCDateTime, utcnow
from learning.extensions import db

ROLES = ("learner", "trainer", "hr", "admin")
LANGUAGES = ("kk", "ru", "en")


class OrgUnit(db.Model):
    """A node of the organisation tree (region → akimat → department).

    `path` is the materialised path of ids, e.g. "/1/4/9/", so "this unit and
    everything below it" is one indexed prefix query: path LIKE '/1/4/%'.
    """

    __tablename__ = "org_units"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(400), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('learner', 'trainer', 'hr', 'admin')", name="role_known"),
        sa.CheckConstraint("language IS NULL OR language IN ('kk', 'ru', 'en')", name="language_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="learner")
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    language: Mapped[str | None] = mapped_column(sa.String(2))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class AuthSession(db.Model):
    """One login: the session cookie names it; logout or a password change revokes it.

    Flask's cookie sessions cannot be taken back once issued, so every request
    checks that its login is still here and not revoked.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
