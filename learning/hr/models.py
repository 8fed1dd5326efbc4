"""Assignments of courses to units or people, with due dates, and the reminder log."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.accounts.models import User
from learning.db import UTCDateTime, utcnow
from learning.extensions import db
from learning.progress.models import CompletionRecord, Enrollment

ACTIVE = sa.text("cancelled_at IS NULL")


class Assignment(db.Model):
    """A course assigned to a unit (its sub-units and later joiners included) or to one person.

    Exactly one of `org_unit_id` and `user_id` is set. Cancelling keeps the row (history);
    only one active assignment of a course per target may exist (partial unique indexes).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        sa.CheckConstraint(
            "(org_unit_id IS NULL AND user_id IS NOT NULL) "
            "OR (org_unit_id IS NOT NULL AND user_id IS NULL)",
            name="one_target",
        ),
        sa.CheckConstraint(
            "(cancelled_at IS NULL AND cancelled_by_id IS NULL) OR cancelled_at IS NOT NULL",
            name="cancelled_consistent",
        ),
        sa.Index(
            "uq_assignments_active_unit_course",
            "org_unit_id",
            "course_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        sa.Index(
            "uq_assignments_active_user_course",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    course = relationship("Course")
    org_unit = relationship("OrgUnit")
    user = relationship("User", foreign_keys=[user_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    cancelled_by = relationship("User", foreign_keys=[cancelled_by_id])

    @property
    def is_active(self) -> bool:
        return self.cancelled_at is None


# The HR report lists people by name (one page at a time, so the database walks this index
# and stops after a page instead of sorting everyone).
ix_users_name = sa.Index("ix_users_name", User.__table__.c.name)

# The HR dashboard counts the active people of each unit and walks their enrolments unit by
# unit: with is_active_account in the index neither reads the users table (SQLite: 2x faster).
ix_users_org_unit_active = sa.Index(
    "ix_users_org_unit_active", User.__table__.c.org_unit_id, User.__table__.c.is_active_account
)

# Each enrolment's latest record is looked up by (user, course, cycle) for its expiry; the
# monthly and score figures read the completion date and score of every record of a person.
# Carrying those columns, this index answers both without reading the (wide) record rows.
_records = CompletionRecord.__table__.c
ix_completion_records_latest = sa.Index(
    "ix_completion_records_latest",
    _records.user_id,
    _records.course_id,
    _records.cycle,
    _records.expires_at,
    _records.completed_at,
    _records.score,
)

# The dashboard's grouped pass reads, per person, each enrolment's course and the cycle of its
# latest record (completed_at, cycle): carrying them, SQLite reads this index instead of
# looking up every enrolment row (about 2x faster at 180,000 enrolments).
_enrollments = Enrollment.__table__.c
ix_enrollments_latest = sa.Index(
    "ix_enrollments_latest",
    _enrollments.user_id,
    _enrollments.course_id,
    _enrollments.completed_at,
    _enrollments.cycle,
)


class ReminderLog(db.Model):
    """One reminder sent to a person for an assignment on a day; the unique key keeps it once."""

    __tablename__ = "reminder_logs"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "user_id", "sent_on"),
        sa.CheckConstraint("channel IN ('smtp', 'log')", name="channel_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    sent_on: Mapped[date] = mapped_column(sa.Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(sa.String(8))
