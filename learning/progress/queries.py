"""Reading a learner's progress: dashboard rows, records, transcript."""

from __future__ import annotations

from collections import namedtuple
from typing import NamedTuple

import sqlalchemy as sa

from learning.accounts.services import PageQuery
from learning.content.models import MODULE_SLUG_LENGTH, SLUG_LENGTH, Course, CourseRevision
from learning.db import RowLoader
from learning.extensions import db
from learning.prepared import Prepared
from learning.progress.models import CompletionRecord, Enrollment, ModuleProgress, RecordRevocation
from learning.quizzes.models import QuizAttempt


_COURSES = RowLoader(Course)
_ENROLLMENTS = RowLoader(Enrollment)
_COURSE_AND_ENROLLMENT = (
    sa.select(*_COURSES.columns("course_"), *_ENROLLMENTS.columns("enrollment_"))
    .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id,
                                   Enrollment.user_id == sa.bindparam("user_id")))
    .where(Course.slug == sa.bindparam("slug"), Course.current_revision_id.is_not(None))
)


def course_and_enrollment(slug: str, user_id: int) -> tuple[Course | None, Enrollment | None]:
    """A published course by slug and this learner's enrolment in it (or None): one query,
    built once and read with Core (the lesson page runs it on every request)."""
    if len(slug) > SLUG_LENGTH:
        return None, None
    row = db.session.connection().execute(_COURSE_AND_ENROLLMENT, {"slug": slug, "user_id": user_id}).first()
    if row is None:
        return None, None
    return _COURSES.load(db.session, row, "course_"), _ENROLLMENTS.load(db.session, row, "enrollment_")


_PROGRESS = ModuleProgress.__table__
_ATTEMPTS = QuizAttempt.__table__
# What the module page shows of the learner's attempts at its quiz.
AttemptSummary = namedtuple("AttemptSummary", ["id", "number", "token", "started_at", "deadline_at",
                                               "submitted_at", "score", "is_passed", "has_pending"])
_ATTEMPT_LABELS = [f"attempt_{field}" for field in AttemptSummary._fields]
_LESSON_SELECT = (
    sa.select(Course.id, Course.slug, Course.current_revision_id,
              Enrollment.id.label("enrollment_id"), Enrollment.revision_id, Enrollment.cycle,
              Enrollment.completed_at, Enrollment.last_module_slug,
              *[column.label(f"progress_{column.key}") for column in _PROGRESS.columns],
              *[_ATTEMPTS.c[field].label(label)
                for field, label in zip(AttemptSummary._fields, _ATTEMPT_LABELS)])
    .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id,
                                   Enrollment.user_id == sa.bindparam("user_id")))
    .outerjoin(_PROGRESS, sa.and_(_PROGRESS.c.user_id == Enrollment.user_id,
                                  _PROGRESS.c.revision_id == Enrollment.revision_id,
                                  _PROGRESS.c.cycle == Enrollment.cycle))
    # The attempts at this module's quiz, on its progress row (a learner who has started the
    # quiz has been on the page): one row more per attempt.
    .outerjoin(_ATTEMPTS, sa.and_(_PROGRESS.c.module_slug == sa.bindparam("module_slug"),
                                  _ATTEMPTS.c.user_id == _PROGRESS.c.user_id,
                                  _ATTEMPTS.c.course_id == Course.id,
                                  _ATTEMPTS.c.module_slug == _PROGRESS.c.module_slug,
                                  _ATTEMPTS.c.cycle == _PROGRESS.c.cycle))
    .where(Course.slug == sa.bindparam("slug"), Course.current_revision_id.is_not(None))
)
_LESSON = Prepared(_LESSON_SELECT)


def _lesson_params(args: dict) -> dict | None:
    if (len(args.get("course_slug", "")) > SLUG_LENGTH
            or len(args.get("module_slug", "")) > MODULE_SLUG_LENGTH):
        return None
    return {"slug": args["course_slug"], "module_slug": args.get("module_slug", "")}


# The lesson page's rows, read with the session user (learning.accounts.services.PageQuery).
LESSON_PAGE = PageQuery(_LESSON_SELECT, _lesson_params)


class LessonCourse(NamedTuple):
    id: int
    slug: str
    current_revision_id: int


class LessonEnrollment(NamedTuple):
    id: int
    user_id: int
    course_id: int
    revision_id: int
    cycle: int
    completed_at: object
    last_module_slug: str | None


# A learner's progress in one module, read-only, with ModuleProgress's attributes.
ProgressRow = namedtuple("ProgressRow", [column.key for column in _PROGRESS.columns])
_PROGRESS_LABELS = [f"progress_{column.key}" for column in _PROGRESS.columns]


class LessonContext(NamedTuple):
    course: LessonCourse | None
    enrollment: LessonEnrollment | None
    progress: dict  # module slug -> ProgressRow
    # The learner's attempts at the module's quiz by number (AttemptSummary); None when not
    # read (no progress row for the module yet: attempt_summaries reads them).
    attempts: list | None


def lesson_context(slug: str, user_id: int, module_slug: str) -> LessonContext:
    """What the lesson page reads: the published course, this learner's enrolment (or None),
    their progress per module in it and their attempts at the module's quiz, in one prepared
    query (learning.prepared), as plain values instead of ORM objects (read with the session
    user when the lesson view loaded it)."""
    if len(slug) > SLUG_LENGTH or len(module_slug) > MODULE_SLUG_LENGTH:
        return LessonContext(None, None, {}, None)
    rows = LESSON_PAGE.rows(slug=slug, user_id=user_id, module_slug=module_slug)
    if rows is None:
        rows = _LESSON.all(slug=slug, user_id=user_id, module_slug=module_slug)
    if not rows:
        return LessonContext(None, None, {}, None)
    first = rows[0]
    course = LessonCourse(first.id, first.slug, first.current_revision_id)
    if first.enrollment_id is None:
        return LessonContext(course, None, {}, None)
    enrollment = LessonEnrollment(first.enrollment_id, user_id, first.id, first.revision_id,
                                  first.cycle, first.completed_at, first.last_module_slug)
    progress = {}
    attempts = []
    for row in rows:
        if row.progress_id is not None:
            values = ProgressRow._make(getattr(row, label) for label in _PROGRESS_LABELS)
            progress[values.module_slug] = values
        if row.attempt_id is not None:
            attempts.append(AttemptSummary._make(getattr(row, label) for label in _ATTEMPT_LABELS))
    attempts.sort(key=lambda attempt: attempt.number)
    return LessonContext(course, enrollment, progress, attempts if module_slug in progress else None)


def dashboard_rows(user) -> list[tuple[Course, Enrollment, CourseRevision]]:
    """The learner's enrolments with course and pinned revision: one query."""
    rows = db.session.execute(
        sa.select(Course, Enrollment, CourseRevision)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .join(CourseRevision, CourseRevision.id == Enrollment.revision_id)
        .where(Enrollment.user_id == user.id)
        .order_by(Enrollment.completed_at.is_not(None), Enrollment.enrolled_at.desc())
    )
    return [tuple(row) for row in rows]


def latest_record(user, course) -> tuple[CompletionRecord, RecordRevocation | None] | None:
    row = db.session.execute(
        sa.select(CompletionRecord, RecordRevocation)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .where(CompletionRecord.user_id == user.id, CompletionRecord.course_id == course.id)
        .order_by(CompletionRecord.completed_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def records_for(user) -> list[tuple[CompletionRecord, RecordRevocation | None, Course, CourseRevision]]:
    rows = db.session.execute(
        sa.select(CompletionRecord, RecordRevocation, Course, CourseRevision)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .join(Course, Course.id == CompletionRecord.course_id)
        .join(CourseRevision, CourseRevision.id == CompletionRecord.revision_id)
        .where(CompletionRecord.user_id == user.id)
        .order_by(CompletionRecord.completed_at.desc())
    )
    return [tuple(row) for row in rows]


def valid_record_exists(user_id, course_id, now):
    """EXISTS: a completion record for (user_id, course_id) that is neither revoked nor expired.

    The arguments are columns (or values) of the enclosing query, so it correlates.
    """
    return (
        sa.select(CompletionRecord.id)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .where(
            CompletionRecord.user_id == user_id,
            CompletionRecord.course_id == course_id,
            RecordRevocation.id.is_(None),
            sa.or_(CompletionRecord.expires_at.is_(None), CompletionRecord.expires_at > now),
        )
        .exists()
    )
