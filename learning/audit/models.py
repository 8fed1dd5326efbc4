"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import JSONType, UTCDateTime, utcnow
from learning.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_email: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
