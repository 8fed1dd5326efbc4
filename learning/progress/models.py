"""Enrolments, module progress, completion records (a tamper-evident chain) and xAPI statements."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content.models import MODULE_SLUG_LENGTH
from learning.db import JSONType, UTCDateTime, utcnow
from learning.extensions import db


class Enrollment(db.Model):
    """A learner on a course, pinned to the revision they are taking.

    `cycle` counts recertifications: progress of an earlier cycle stays as history.
    """

    __tablename__ = "enrollments"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("course_revisions.id"))
    cycle: Mapped[int] = mapped_column(default=1)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    percent_complete: Mapped[int] = mapped_column(default=0)
    last_module_slug: Mapped[str | None] = mapped_column(sa.String(MODULE_SLUG_LENGTH))

    revision = relationship("CourseRevision")


class ModuleProgress(db.Model):
    __tablename__ = "module_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "revision_id", "module_slug", "cycle"),
        sa.CheckConstraint("status IN ('in_progress', 'completed')", name="status_known"),
        sa.CheckConstraint("seconds_spent >= 0", name="seconds_non_negative"),
        sa.CheckConstraint("position >= 0", name="position_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("course_revisions.id"), index=True)
    module_slug: Mapped[str] = mapped_column(sa.String(MODULE_SLUG_LENGTH))
    cycle: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(12), default="in_progress")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reached the end and confirmed
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # read and quiz passed
    seconds_spent: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[float | None]
    attempts: Mapped[int] = mapped_column(default=0)
    is_quiz_passed: Mapped[bool] = mapped_column(default=False)


class CompletionRecord(db.Model):
    """Append-only proof that a learner completed a course revision.

    `hmac` covers this record's fields and the previous record's `hmac`, so editing,
    inserting or deleting a row by hand breaks the chain (`flask records verify`).
    """

    __tablename__ = "completion_records"
    __table_args__ = (
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        sa.UniqueConstraint("user_id", "course_id", "cycle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("course_revisions.id"))
    cycle: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[float | None]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certificate_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    previous_hmac: Mapped[str] = mapped_column(sa.String(64))
    hmac: Mapped[str] = mapped_column(sa.String(64))

    user = relationship("User")
    course = relationship("Course")
    revision = relationship("CourseRevision")


class RecordRevocation(db.Model):
    """Revoking a completion record is an event of its own; the record is never changed."""

    __tablename__ = "record_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("completion_records.id"), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(500))


class RecordChainHead(db.Model):
    """The single row locked while a completion record is appended."""

    __tablename__ = "record_chain_head"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(default=0)
    hmac: Mapped[str] = mapped_column(sa.String(64))


class Statement(db.Model):
    """An xAPI 1.0.3 statement, append-only."""

    __tablename__ = "statements"

    seq: Mapped[int] = mapped_column(primary_key=True)  # the stream's order and cursor
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    verb: Mapped[str] = mapped_column(sa.String(30))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    data: Mapped[dict] = mapped_column(JSONType)
