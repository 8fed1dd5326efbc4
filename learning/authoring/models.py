"""Drafts of courses edited in the studio (never visible to learners; they read revisions)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content.models import Course, CourseRevision
from learning.db import JSONType, UTCDateTime, utcnow
from learning.extensions import db
from learning.quizzes.models import EssayGrade


class CourseDraft(db.Model):
    """A course's files being edited: text files by path, media by content hash.

    `version` is the optimistic lock: SQLAlchemy bumps it on every update and updates
    only `WHERE version = <the version read>`, so two concurrent saves cannot both win.
    """

    __tablename__ = "course_drafts"
    __table_args__ = (sa.CheckConstraint("version > 0", name="version_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    files: Mapped[dict] = mapped_column(JSONType)  # relative path -> text
    media: Mapped[dict] = mapped_column(JSONType)  # "media/x.png" -> sha256 of the blob
    based_on_revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course_revisions.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(foreign_keys=[course_id])
    based_on_revision: Mapped[CourseRevision | None] = relationship(foreign_keys=[based_on_revision_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}


@event.listens_for(EssayGrade, "before_update")
@event.listens_for(EssayGrade, "before_delete")
def _essay_grades_are_append_only(_mapper, _connection, _target) -> None:
    """The audit trail of hand grades: a regrade adds a row, an earlier grade never changes."""
    raise RuntimeError("essay grades are append-only: add a new grade instead")
