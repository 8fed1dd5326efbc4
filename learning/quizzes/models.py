"""Quiz attempts and hand grades of essay questions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from learning.content.models import MODULE_SLUG_LENGTH
from learning.db import JSONType, UTCDateTime, VerbatimJSONType, utcnow
from learning.extensions import db


class QuizAttempt(db.Model):
    """One attempt at a module's quiz: the questions drawn, the answers, the grade.

    The unique constraints make a replayed or concurrent submission a no-op.
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", "module_slug", "cycle", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("course_revisions.id"), index=True)
    module_slug: Mapped[str] = mapped_column(sa.String(MODULE_SLUG_LENGTH))
    cycle: Mapped[int] = mapped_column(default=1)
    number: Mapped[int]
    language: Mapped[str] = mapped_column(sa.String(2))
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)  # the idempotency key
    questions: Mapped[list] = mapped_column(VerbatimJSONType)  # drawn questions in display order
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responses: Mapped[dict | None] = mapped_column(JSONType)
    results: Mapped[list | None] = mapped_column(JSONType)
    score: Mapped[float | None]
    is_passed: Mapped[bool | None]
    has_pending: Mapped[bool] = mapped_column(default=False)


class EssayGrade(db.Model):
    """A trainer's grade of one essay answer; a regrade adds a row, the earlier stays."""

    __tablename__ = "essay_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id"), index=True)
    question_index: Mapped[int]
    score: Mapped[float]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    graded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
