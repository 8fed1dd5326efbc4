"""Bearer tokens of the read-only HR API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import UTCDateTime, utcnow
from learning.extensions import db


class ApiToken(db.Model):
    """A token is shown once; only its SHA-256 is kept.

    It acts for its owner (hr or admin) within the owner's units, narrowed to
    `org_unit_id` when set.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # to recognise a token in lists and logs
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner = relationship("User")
    org_unit = relationship("OrgUnit")
