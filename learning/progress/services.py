"""Recording learner progress and deciding course completion.

Services only flush; the view or command commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from learning.content.models import Course, CourseRevision
from learning.content.queries import RevisionView, revision_view
from learning.db import utcnow
from learning.extensions import db
from learning.i18n import N_, UserError
from learning.prepared import Prepared, write_transaction
from learning.progress.models import Enrollment, ModuleProgress

MAX_PING_SECONDS = 120  # the page reports activity at most every 30 s; more is an idle tab
MAX_POSITION = 10_000


class ProgressError(UserError):
    """A progress report the server refuses (forged module, impossible values); a msgid."""


@dataclass(frozen=True)
class ModuleState:
    status: str  # not_started | in_progress | read | completed
    progress: ModuleProgress | None
    is_locked: bool
    unlock_hint: str | None


def _upsert(table, values: dict, index_elements: list[str], update: dict, *, dialect: str | None = None):
    dialect = dialect or db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(**values)
    return insert.on_conflict_do_update(index_elements=index_elements, set_=update)


def find_enrollment(user, course: Course) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )


def enroll(user, course: Course) -> tuple[Enrollment, bool]:
    """The learner's enrolment, created on the current revision when missing. Returns (row, new)."""
    enrollment = find_enrollment(user, course)
    if enrollment is not None:
        return enrollment, False
    now = utcnow()
    statement = _upsert(
        Enrollment.__table__,
        {"user_id": user.id, "course_id": course.id, "revision_id": course.current_revision_id,
         "cycle": 1, "enrolled_at": now, "percent_complete": 0},
        ["user_id", "course_id"],
        {"user_id": user.id},
    )
    db.session.execute(statement)
    enrollment = find_enrollment(user, course)
    from learning.progress.statements import record_statement

    record_statement(user, "registered", f"/courses/{course.slug}",
                     revision_view(enrollment.revision_id).structure.get("title", {}))
    return enrollment, True


def module_progress(user, enrollment: Enrollment) -> dict[str, ModuleProgress]:
    rows = db.session.scalars(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.revision_id == enrollment.revision_id,
            ModuleProgress.cycle == enrollment.cycle,
        )
    )
    return {row.module_slug: row for row in rows}


_PROGRESS_ROWS = Prepared(sa.select(ModuleProgress.__table__).where(
    ModuleProgress.__table__.c.user_id == sa.bindparam("user_id"),
    ModuleProgress.__table__.c.revision_id == sa.bindparam("revision_id"),
    ModuleProgress.__table__.c.cycle == sa.bindparam("cycle"),
))


def progress_snapshot(user_id: int, enrollment) -> dict[str, tuple]:
    """The learner's progress per module as read-only rows (same attributes as
    ModuleProgress), for pages that only show it: one prepared query, no ORM objects."""
    rows = _PROGRESS_ROWS.all(user_id=user_id, revision_id=enrollment.revision_id, cycle=enrollment.cycle)
    return {row.module_slug: row for row in rows}


def module_states(view: RevisionView, progress: dict[str, ModuleProgress]) -> dict[str, ModuleState]:
    """Status of every module, and which are locked in a sequential course."""
    states: dict[str, ModuleState] = {}
    previous_done = True
    previous_title = None
    for module in view.modules:
        row = progress.get(module.slug)
        if row is None:
            status = "not_started"
        elif row.status == "completed":
            status = "completed"
        elif row.read_at is not None:
            status = "read"
        else:
            status = "in_progress"
        locked = view.is_sequential and not previous_done
        states[module.slug] = ModuleState(status, row, locked, previous_title if locked else None)
        done = status == "completed"
        previous_done = previous_done and done
        previous_title = module.slug
    return states


def record_visit(user, enrollment: Enrollment, module_slug: str) -> None:
    """Note a visit: one idempotent upsert (a statement built once per database kind)."""
    now = utcnow()
    db.session.connection().execute(
        _visit_upsert(),
        {"user_id": user.id, "revision_id": enrollment.revision_id, "module_slug": module_slug,
         "cycle": enrollment.cycle, "now": now},
    )
    if enrollment.last_module_slug != module_slug:
        enrollment.last_module_slug = module_slug


_VISIT_UPSERTS: dict[str, sa.Insert] = {}


def _visit_upsert(dialect: str | None = None) -> sa.Insert:
    # Built once: constructing an upsert costs more than running it on the lesson page.
    dialect = dialect or db.session.get_bind().dialect.name
    statement = _VISIT_UPSERTS.get(dialect)
    if statement is None:
        now = sa.bindparam("now", type_=ModuleProgress.__table__.c.last_seen_at.type)
        statement = _upsert(
            ModuleProgress.__table__,
            {"user_id": sa.bindparam("user_id"), "revision_id": sa.bindparam("revision_id"),
             "module_slug": sa.bindparam("module_slug"), "cycle": sa.bindparam("cycle"),
             "status": "in_progress", "first_seen_at": now, "last_seen_at": now,
             "seconds_spent": 0, "position": 0, "attempts": 0, "is_quiz_passed": False},
            ["user_id", "revision_id", "module_slug", "cycle"],
            {"last_seen_at": now},
            dialect=dialect,
        )
        _VISIT_UPSERTS[dialect] = statement
    return statement


_VISIT = Prepared(_visit_upsert)
_LAST_MODULE = Prepared(
    sa.update(Enrollment.__table__)
    .where(Enrollment.__table__.c.id == sa.bindparam("enrollment_id"))
    .values(last_module_slug=sa.bindparam("last_module"))
)


def record_lesson_visit(user_id: int, enrollment, module_slug: str) -> None:
    """record_visit for the lesson page: the visit upsert (and the enrolment's last module
    when it changes) as prepared statements in one short write transaction."""
    moved = enrollment.last_module_slug != module_slug
    with write_transaction(single_statement=not moved):
        _VISIT.run(user_id=user_id, revision_id=enrollment.revision_id, module_slug=module_slug,
                   cycle=enrollment.cycle, now=utcnow())
        if moved:
            _LAST_MODULE.run(enrollment_id=enrollment.id, last_module=module_slug)


def record_activity(
    user, enrollment: Enrollment, view: RevisionView, module_slug: str,
    *, seconds: int, position: int,
) -> ModuleProgress:
    """Add active reading time and the furthest position reached (both bounded)."""
    if view.module(module_slug) is None:
        raise ProgressError(N_("Unknown module for this course."))
    if not (0 <= seconds <= 3600) or not (0 <= position <= MAX_POSITION):
        raise ProgressError(N_("Progress values out of range."))
    record_visit(user, enrollment, module_slug)
    row = _progress_row(user, enrollment, module_slug)
    now = utcnow()
    # Never count more than the wall time since the last report, nor more than one ping's worth.
    elapsed = (now - row.last_seen_at).total_seconds() if row.seconds_spent else seconds
    counted = int(max(0, min(seconds, MAX_PING_SECONDS, elapsed + 5)))
    cap = current_app.config["PROGRESS_VISIT_CAP_SECONDS"]
    row.seconds_spent += min(counted, cap)
    row.position = max(row.position, position)
    row.last_seen_at = now
    return row


def _progress_row(user, enrollment: Enrollment, module_slug: str) -> ModuleProgress:
    return db.session.scalar(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.revision_id == enrollment.revision_id,
            ModuleProgress.module_slug == module_slug,
            ModuleProgress.cycle == enrollment.cycle,
        ).with_for_update()
    )


def mark_read(user, enrollment: Enrollment, view: RevisionView, module_slug: str,
              *, position: int, sections: int) -> ModuleProgress:
    """The learner reached the end of the module and confirmed it."""
    module = view.module(module_slug)
    if module is None:
        raise ProgressError(N_("Unknown module for this course."))
    if position < sections:
        raise ProgressError(N_("Read the module to its end first."))
    record_visit(user, enrollment, module_slug)
    row = _progress_row(user, enrollment, module_slug)
    now = utcnow()
    row.position = max(row.position, sections)
    if row.read_at is None:
        row.read_at = now
        from learning.progress.statements import record_statement

        record_statement(user, "experienced", f"/courses/{enrollment_course_slug(enrollment)}/{module_slug}",
                         module.titles, parent_path=f"/courses/{enrollment_course_slug(enrollment)}")
    _refresh_module_status(row, module)
    refresh_course(user, enrollment, view)
    return row


def enrollment_course_slug(enrollment: Enrollment) -> str:
    return revision_view(enrollment.revision_id).structure.get("slug") or db.session.get(
        Course, enrollment.course_id).slug


def _refresh_module_status(row: ModuleProgress, module) -> None:
    done = row.read_at is not None and (not module.has_quiz or row.is_quiz_passed)
    if done and row.status != "completed":
        row.status = "completed"
        row.completed_at = utcnow()


def percent_complete(view: RevisionView, progress: dict[str, ModuleProgress]) -> int:
    """Share of the completion rule met: required modules read and required quizzes passed."""
    total = len(view.required_modules) + len(view.required_quizzes)
    if total == 0:
        return 100
    met = sum(1 for slug in view.required_modules if (p := progress.get(slug)) and p.read_at)
    met += sum(1 for slug in view.required_quizzes if (p := progress.get(slug)) and p.is_quiz_passed)
    return int(met * 100 / total)


def refresh_course(user, enrollment: Enrollment, view: RevisionView):
    """Recompute the percentage; when the rule now holds, write the completion record."""
    db.session.flush()
    progress = module_progress(user, enrollment)
    enrollment.percent_complete = percent_complete(view, progress)
    if enrollment.percent_complete == 100 and enrollment.completed_at is None:
        from learning.progress.records import complete_course

        scores = [p.best_score for slug, p in progress.items()
                  if slug in view.required_quizzes and p.best_score is not None]
        score = round(sum(scores) / len(scores), 2) if scores else None
        return complete_course(user, enrollment, view, score=score)
    return None


def switch_to_revision(user, enrollment: Enrollment, revision: CourseRevision) -> None:
    """Move a learner explicitly onto a newer revision; progress there starts afresh."""
    enrollment.revision_id = revision.id
    enrollment.revision = revision
    enrollment.percent_complete = 0
    enrollment.last_module_slug = None


def start_recertification(user, enrollment: Enrollment, course: Course) -> None:
    """Begin a new cycle on the current revision; the earlier record stays in history."""
    enrollment.cycle += 1
    enrollment.revision_id = course.current_revision_id
    enrollment.completed_at = None
    enrollment.percent_complete = 0
    enrollment.last_module_slug = None


def next_module(view: RevisionView, states: dict[str, ModuleState]) -> str | None:
    """Where "Continue" goes: the first module not yet completed."""
    for module in view.modules:
        if states[module.slug].status != "completed" and not states[module.slug].is_locked:
            return module.slug
    return None


def expiry_for(view: RevisionView, completed_at):
    months = view.structure.get("validity_months")
    if not months:
        return None
    return completed_at + timedelta(days=round(months * 30.4375))


# --------------------------------------------------------------------------- graded quizzes
# The quiz submission's side of progress, in Core statements (no ORM identity work or flush
# on the hot path); the completion itself goes through refresh_course like every other.


@dataclass
class EnrollmentState:
    """An enrolment's columns as read by a request that writes it with Core statements."""

    id: int
    user_id: int
    course_id: int
    revision_id: int
    cycle: int
    completed_at: datetime | None
    percent_complete: int
    last_module_slug: str | None


_QUIZ_UPSERTS: dict[str, sa.Insert] = {}


def _quiz_upsert(dialect: str | None = None, *, only_with: sa.CTE | None = None) -> sa.Insert:
    """record_visit, one more attempt, the best score, the pass and the module's completion
    (as _refresh_module_status) in one upsert. In the UPDATE branch the columns are the row's
    values before it, on both databases. Built once per database kind.

    `only_with` (PostgreSQL): a CTE of the same statement; the row is written only when it
    returns a row (INSERT ... SELECT ... FROM it), as part of a larger statement."""
    dialect = dialect or db.session.get_bind().dialect.name
    statement = _QUIZ_UPSERTS.get(dialect) if only_with is None else None
    if statement is not None:
        return statement
    table = ModuleProgress.__table__
    old = table.c
    now = sa.bindparam("now", type_=old.last_seen_at.type)
    score = sa.bindparam("score", type_=old.best_score.type)
    passed = sa.bindparam("passed", type_=old.is_quiz_passed.type)
    quiz_passed = sa.or_(old.is_quiz_passed, passed)
    # A graded module has a quiz: it is done once read and passed.
    becomes_completed = sa.and_(old.status != "completed", old.read_at.is_not(None), quiz_passed)
    values = {
        "user_id": sa.bindparam("user_id", type_=old.user_id.type),
        "revision_id": sa.bindparam("revision_id", type_=old.revision_id.type),
        "module_slug": sa.bindparam("module_slug", type_=old.module_slug.type),
        "cycle": sa.bindparam("cycle", type_=old.cycle.type),
        "status": "in_progress", "first_seen_at": now, "last_seen_at": now, "seconds_spent": 0,
        "position": 0, "attempts": 1, "best_score": score, "is_quiz_passed": passed,
    }
    index_elements = ["user_id", "revision_id", "module_slug", "cycle"]
    update = {
        "last_seen_at": now,
        "attempts": old.attempts + 1,
        "best_score": sa.case((sa.or_(old.best_score.is_(None), old.best_score < score), score),
                              else_=old.best_score),
        "is_quiz_passed": quiz_passed,
        "status": sa.case((becomes_completed, "completed"), else_=old.status),
        "completed_at": sa.case((becomes_completed, now), else_=old.completed_at),
    }
    if only_with is None:
        insert = _upsert(table, values, index_elements, update, dialect=dialect)
    else:
        insert = postgresql.insert(table).from_select(
            list(values), select_values(table, values).select_from(only_with)
        ).on_conflict_do_update(index_elements=index_elements, set_=update)
    statement = insert.returning(old.module_slug, old.read_at, old.is_quiz_passed, old.best_score,
                                 old.status)
    if only_with is None:
        _QUIZ_UPSERTS[dialect] = statement
    return statement


def quiz_upsert_with(claim: sa.CTE) -> sa.Insert:
    """PostgreSQL: the graded attempt's upsert (see prepared_quiz_attempt) as the main statement
    of a larger one, written only when the CTE `claim` returns a row."""
    return _quiz_upsert("postgresql", only_with=claim)


def select_values(table: sa.Table, values: dict) -> sa.Select:
    """A SELECT of `values` (column name -> bound parameter or constant) typed as the table's
    columns: the row an INSERT ... SELECT writes."""
    return sa.select(*[
        (value if isinstance(value, sa.sql.ClauseElement)
         else sa.literal(value, type_=table.c[name].type)).label(name)
        for name, value in values.items()
    ])


def record_quiz_attempt(user, enrollment: EnrollmentState, module_slug: str, *, score: float,
                        passed: bool) -> sa.Row:
    """A graded attempt on the module's progress (a visit, one more attempt, the best score, a
    pass, the module completed when also read). Returns the row as it now stands."""
    return db.session.connection().execute(_quiz_upsert(), {
        "user_id": user.id, "revision_id": enrollment.revision_id, "module_slug": module_slug,
        "cycle": enrollment.cycle, "now": utcnow(), "score": score, "passed": bool(passed),
    }).one()


_mp = ModuleProgress.__table__
_QUIZ_PROGRESS_ROWS = sa.select(
    _mp.c.module_slug, _mp.c.status, _mp.c.read_at, _mp.c.is_quiz_passed, _mp.c.best_score
).where(
    _mp.c.user_id == sa.bindparam("user_id"),
    _mp.c.revision_id == sa.bindparam("revision_id"),
    _mp.c.cycle == sa.bindparam("cycle"),
)


def quiz_progress_rows(user, enrollment) -> dict[str, sa.Row]:
    """The enrolment's progress per module as read-only rows (module_slug, status, read_at,
    is_quiz_passed, best_score): enough for module_states and percent_complete, and no ORM
    objects that a later ORM query in the request would return unrefreshed."""
    rows = db.session.connection().execute(_QUIZ_PROGRESS_ROWS, {
        "user_id": user.id, "revision_id": enrollment.revision_id, "cycle": enrollment.cycle})
    return {r.module_slug: r for r in rows}
_ENROLLMENT_UPDATE = (
    sa.update(Enrollment.__table__)
    .where(Enrollment.__table__.c.id == sa.bindparam("enrollment_id"))
    .values(last_module_slug=sa.bindparam("last_module_slug"),
            percent_complete=sa.bindparam("percent_complete"))
)


def refresh_course_after_quiz(user, enrollment: EnrollmentState, outline, module_slug: str,
                              row: sa.Row):
    """After record_quiz_attempt: note the module as the last one visited and recompute the
    percentage; when the rule now holds, complete the course through refresh_course.
    `outline` is the revision's view, or anything with its required_modules and
    required_quizzes (the quiz's cached plan)."""
    percent = _percent_after_quiz(outline, module_slug, row, lambda: quiz_progress_rows(user, enrollment))
    if percent == 100 and enrollment.completed_at is None:
        # Completion: once per enrolment cycle, so the ORM path every completion takes.
        record = db.session.get(Enrollment, enrollment.id)
        if record.last_module_slug != module_slug:
            record.last_module_slug = module_slug
        return refresh_course(user, record, revision_view(record.revision_id))
    if enrollment.last_module_slug != module_slug or enrollment.percent_complete != percent:
        db.session.connection().execute(_ENROLLMENT_UPDATE, {
            "enrollment_id": enrollment.id, "last_module_slug": module_slug, "percent_complete": percent})
        enrollment.last_module_slug, enrollment.percent_complete = module_slug, percent
    return None


def _percent_after_quiz(outline, module_slug: str, row, all_rows) -> int:
    """The course's percentage after a quiz whose progress row is `row`; the learner's other
    rows (`all_rows()`) are read only when other modules count too."""
    needed = set(outline.required_modules) | set(outline.required_quizzes)
    rows = {module_slug: row} if needed <= {module_slug} else all_rows()
    return percent_complete(outline, rows)


# The same writes on the request's prepared connection (learning.prepared), inside the quiz
# submission's write_transaction: the usual submission does no Session work at all.

_QUIZ_ATTEMPT = Prepared(_quiz_upsert)
_ENROLLMENT_PROGRESS = Prepared(_ENROLLMENT_UPDATE)


class CompletionDue(Exception):
    """The graded attempt completes the course: the caller rolls its prepared transaction back
    and writes the submission through the Session instead (refresh_course, once per cycle)."""


def prepared_quiz_attempt(user_id: int, enrollment: EnrollmentState, module_slug: str, *,
                          score: float, passed: bool) -> tuple:
    """record_quiz_attempt as a prepared statement (in the caller's write_transaction)."""
    return _QUIZ_ATTEMPT.first(**quiz_attempt_values(user_id, enrollment, module_slug,
                                                     score=score, passed=passed))


def quiz_attempt_values(user_id: int, enrollment: EnrollmentState, module_slug: str, *,
                        score: float, passed: bool) -> dict:
    """The parameters of the graded attempt's upsert."""
    return {"user_id": user_id, "revision_id": enrollment.revision_id, "module_slug": module_slug,
            "cycle": enrollment.cycle, "now": utcnow(), "score": score, "passed": bool(passed)}


def prepared_course_after_quiz(user_id: int, enrollment: EnrollmentState, outline, module_slug: str,
                               row: tuple) -> None:
    """refresh_course_after_quiz as prepared statements (in the caller's write_transaction),
    writing the same. Raises CompletionDue, having written nothing more, when the course is
    now complete."""
    percent = _percent_after_quiz(outline, module_slug, row, lambda: progress_snapshot(user_id, enrollment))
    if percent == 100 and enrollment.completed_at is None:
        raise CompletionDue
    if enrollment.last_module_slug != module_slug or enrollment.percent_complete != percent:
        _ENROLLMENT_PROGRESS.run(enrollment_id=enrollment.id, last_module_slug=module_slug,
                                 percent_complete=percent)
        enrollment.last_module_slug, enrollment.percent_complete = module_slug, percent
