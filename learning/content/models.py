"""Courses and their immutable, published revisions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import JSONType, UTCDateTime, utcnow
from learning.extensions import db


# The longest course slug: the column's length, and what a lookup by slug accepts.
SLUG_LENGTH = 100
# The longest module slug, likewise (the module columns of rendered modules, progress, attempts).
MODULE_SLUG_LENGTH = 120


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(SLUG_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest published revision: what a learner who starts now gets.
    current_revision_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course_revisions.id", use_alter=True), index=True
    )
    # Hash of the files last synced from courses/; a studio publish after it means
    # `courses sync` must not overwrite silently.
    synced_hash: Mapped[str | None] = mapped_column(sa.String(64))
    is_changed_in_studio: Mapped[bool] = mapped_column(default=False)
    is_archived: Mapped[bool] = mapped_column(default=False)

    current_revision: Mapped[CourseRevision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )


class CourseRevision(db.Model):
    """An immutable snapshot of a course: its files, parsed structure and hash."""

    __tablename__ = "course_revisions"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.CheckConstraint("source IN ('files', 'studio', 'import')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    # Both are large; they load only when asked for (learner pages use the cached RevisionView).
    structure: Mapped[dict] = mapped_column(JSONType, deferred=True)  # parser.course_to_dict()
    files: Mapped[dict] = mapped_column(JSONType, deferred=True)  # relative path -> text
    source: Mapped[str] = mapped_column(sa.String(10), default="files")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    course: Mapped[Course] = relationship(foreign_keys=[course_id])


class RenderedModule(db.Model):
    """A module's sanitised HTML for one language, rendered once when the revision is stored."""

    __tablename__ = "rendered_modules"

    revision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_revisions.id", ondelete="CASCADE"), primary_key=True
    )
    module_slug: Mapped[str] = mapped_column(sa.String(MODULE_SLUG_LENGTH), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    html: Mapped[str] = mapped_column(sa.Text)
    sections: Mapped[int] = mapped_column(default=1)  # number of ## sections, for the reading position
    anchors: Mapped[list] = mapped_column(JSONType, default=list)  # ids of the ## headings, to resume at
    source_hash: Mapped[str] = mapped_column(sa.String(64))
