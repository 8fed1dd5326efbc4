"""Reading HR data: unit scope, the person × course report, dashboard figures, assignments.

The report's row set: every active person in scope with every course that is assigned
to them (through their unit or one of its parents, or by name) or that they have started
(an enrolment; completing needs one). Its status per row, first that applies:

  completed    the latest completion record is valid (not revoked, not expired)
  overdue      assigned, the due date has passed, and no valid record
  expired      the latest record has expired
  revoked      the latest record was revoked
  in_progress  enrolled
  not_started  assigned but not opened yet

Each page of the report is one SELECT: an inner query picks the page's keys (so the
planner can stop early), the outer one joins the details of those rows only.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from learning.accounts.models import OrgUnit, User
from learning.content.models import Course, CourseRevision
from learning.db import utcnow
from learning.extensions import db
from learning.hr.models import Assignment
from learning.progress.models import CompletionRecord, Enrollment, RecordRevocation
from learning.progress.queries import valid_record_exists
from learning.quizzes.models import QuizAttempt

STATUSES = ("completed", "in_progress", "not_started", "overdue", "expired", "revoked")
# Kazakhstan has used one time zone, UTC+5, since March 2024: a due date ends at local midnight.
LOCAL_TZ = timezone(timedelta(hours=5))
MAX_ID = 2**31 - 1  # ids past this cannot exist (and overflow the database's integer)
SORTS = ("name", "unit", "course", "status", "due", "started", "completed", "score", "expires")


def local_today() -> date:
    """Today's date in Kazakhstan, the day against which due dates are judged."""
    return datetime.now(LOCAL_TZ).date()


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """The units a viewer may see: `path` and below, or everything when `path` is None."""

    path: str | None

    def covers(self, unit: OrgUnit | None) -> bool:
        return unit is not None and (self.path is None or unit.path.startswith(self.path))

    def covers_path(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class OutOfScope(LookupError):
    """A unit or person outside the viewer's units (answered as 404, so nothing leaks)."""


def scope_for(user) -> Scope:
    """Admins see every unit; HR their own unit and below; nobody else sees anyone."""
    if user.role == "admin":
        return Scope(None)
    if user.role == "hr":
        return Scope(user.org_unit.path)
    raise OutOfScope("no HR scope")


def units_in_scope(scope: Scope) -> list[OrgUnit]:
    """Every unit the scope covers, in tree order."""
    query = sa.select(OrgUnit).order_by(OrgUnit.full_name, OrgUnit.id)
    if scope.path is not None:
        query = query.where(OrgUnit.path.startswith(scope.path))
    return list(db.session.scalars(query))


def unit_in_scope(scope: Scope, unit_id: int) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id) if 0 < unit_id <= MAX_ID else None
    if unit is None or not scope.covers(unit):
        raise OutOfScope(f"unit {unit_id}")
    return unit


def person_in_scope(scope: Scope, user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None or not scope.covers(user.org_unit):
        raise OutOfScope(f"user {user_id}")
    return user


# --------------------------------------------------------------------------- courses


@dataclass(frozen=True)
class CourseOption:
    id: int
    slug: str
    titles: dict[str, str]
    languages: tuple[str, ...]
    is_archived: bool

    def title(self, language: str) -> str:
        fallback = self.languages[0] if self.languages else "ru"
        return self.titles.get(language) or self.titles.get(fallback) or self.slug


def course_options(*, include_archived: bool = True) -> list[CourseOption]:
    """Published courses with their titles: one small query (no module texts loaded)."""
    query = (
        sa.select(
            Course.id,
            Course.slug,
            Course.is_archived,
            CourseRevision.structure["title"].label("title"),
            CourseRevision.structure["languages"].label("languages"),
        )
        .join(CourseRevision, CourseRevision.id == Course.current_revision_id)
        .order_by(Course.slug)
    )
    if not include_archived:
        query = query.where(Course.is_archived.is_(False))
    return [
        CourseOption(
            row.id, row.slug, dict(row.title or {}), tuple(row.languages or ()), row.is_archived
        )
        for row in db.session.execute(query)
    ]


# --------------------------------------------------------------------------- the report


@dataclass
class ReportFilters:
    """What the report shows; every field already validated (see forms.ReportForm)."""

    unit_path: str | None = None  # the chosen unit, its sub-units included
    course_id: int | None = None
    status: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    name: str = ""
    user_id: int | None = None
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ReportRow:
    user_id: int
    name: str
    email: str
    unit_id: int
    unit_name: str
    course_id: int
    course_slug: str
    status: str
    is_assigned: bool
    due_on: date | None
    enrolled_at: datetime | None
    percent_complete: int | None
    completed_at: datetime | None
    score: float | None
    expires_at: datetime | None
    certificate_code: str | None
    attempts: int


@dataclass
class _Parts:
    """The tables and computed columns of the report's row set."""

    query: sa.Select
    user: type
    unit: type
    course: type
    enrollment: type
    record: type
    revocation: type
    due: sa.ColumnElement
    status: sa.ColumnElement
    sort_keys: dict = field(default_factory=dict)


def _due_tables():
    """Effective due dates: per (unit, course) through the unit or a parent; per (user, course)."""
    assigned_unit = aliased(OrgUnit, name="assigned_unit")
    member_unit = aliased(OrgUnit, name="member_unit")
    unit_due = (
        sa.select(
            member_unit.id.label("unit_id"),
            Assignment.course_id.label("course_id"),
            sa.func.min(Assignment.due_on).label("due_on"),
        )
        .select_from(Assignment)
        .join(assigned_unit, assigned_unit.id == Assignment.org_unit_id)
        .join(member_unit, member_unit.path.startswith(assigned_unit.path))
        # Redundant with the join, but it tells PostgreSQL's planner that only the few unit
        # assignments take part: it then starts from them instead of pairing every unit with
        # every unit by path (~250,000 LIKE tests for 500 units, 2/3 of a report page's time).
        .where(Assignment.cancelled_at.is_(None), Assignment.org_unit_id.is_not(None))
        .group_by(member_unit.id, Assignment.course_id)
        .subquery("unit_due")
    )
    user_due = (
        sa.select(
            Assignment.user_id.label("user_id"),
            Assignment.course_id.label("course_id"),
            sa.func.min(Assignment.due_on).label("due_on"),
        )
        .where(Assignment.user_id.is_not(None), Assignment.cancelled_at.is_(None))
        .group_by(Assignment.user_id, Assignment.course_id)
        .subquery("user_due")
    )
    return unit_due, user_due


def _courses_in_use() -> sa.CompoundSelect:
    """Ids of the courses someone is enrolled in or assigned to (a handful, however big the
    library)."""
    return sa.union(
        sa.select(Enrollment.course_id),
        sa.select(Assignment.course_id).where(Assignment.cancelled_at.is_(None)),
    )


def _row_keys(unit_due, user_due):
    """Every (person, course) pair of the report, with its unit and personal due dates: the
    enrolments, the people of each unit with a unit assignment, the personal assignments,
    grouped. Built in one pass (hashed or sorted), it is the whole report's FROM: a product
    person x course would cost as many look-ups per person as courses in use, whoever uses
    them (~10 M pairs for 100,000 people and a 100-course library)."""
    member = aliased(User, name="member")
    no_date = sa.cast(sa.null(), sa.Date)
    keys = sa.union_all(
        sa.select(
            Enrollment.user_id.label("user_id"),
            Enrollment.course_id.label("course_id"),
            no_date.label("unit_due_on"),
            no_date.label("user_due_on"),
        ),
        sa.select(member.id, unit_due.c.course_id, unit_due.c.due_on, no_date).join(
            unit_due, unit_due.c.unit_id == member.org_unit_id
        ),
        sa.select(user_due.c.user_id, user_due.c.course_id, no_date, user_due.c.due_on),
    ).subquery("keys")
    return (
        sa.select(
            keys.c.user_id,
            keys.c.course_id,
            sa.func.min(keys.c.unit_due_on).label("unit_due_on"),
            sa.func.min(keys.c.user_due_on).label("user_due_on"),
        )
        .group_by(keys.c.user_id, keys.c.course_id)
        .subquery("k")
    )


def _row_set(
    scope: Scope, filters: ReportFilters, *, now: datetime, today: date, whole: bool = False
) -> _Parts:
    """The FROM and WHERE of the report (without the selected columns).

    `whole`: for every row (the exports), FROM the report's (person, course) pairs
    (_row_keys). Otherwise, for a page, people in the page's order with each one's courses,
    so that the database stops after a page.
    """
    user, unit, course = (
        aliased(User, name="u"),
        aliased(OrgUnit, name="ou"),
        aliased(Course, name="c"),
    )
    enrollment = aliased(Enrollment, name="e")
    record = aliased(CompletionRecord, name="cr")
    revocation = aliased(RecordRevocation, name="rr")
    unit_due, user_due = _due_tables()
    keys = _row_keys(unit_due, user_due) if whole else None
    if keys is not None:
        unit_due_on, user_due_on = keys.c.unit_due_on, keys.c.user_due_on
    else:
        unit_due_on, user_due_on = unit_due.c.due_on, user_due.c.due_on

    due = sa.case(
        (unit_due_on.is_(None), user_due_on),
        (user_due_on.is_(None), unit_due_on),
        (unit_due_on < user_due_on, unit_due_on),
        else_=user_due_on,
    )
    has_record = record.id.is_not(None)
    not_revoked = revocation.id.is_(None)
    status = sa.case(
        (
            sa.and_(
                has_record,
                not_revoked,
                sa.or_(record.expires_at.is_(None), record.expires_at > now),
            ),
            "completed",
        ),
        (due < today, "overdue"),
        (sa.and_(has_record, not_revoked), "expired"),
        (has_record, "revoked"),
        (enrollment.id.is_not(None), "in_progress"),
        else_="not_started",
    )
    # The latest record is that of the enrolment's cycle when it is completed, else of the
    # cycle before (a recertification in progress): an equality join on the unique key.
    record_cycle = sa.case(
        (enrollment.completed_at.is_(None), enrollment.cycle - 1), else_=enrollment.cycle
    )
    query = sa.select().select_from(user).join(unit, unit.id == user.org_unit_id)
    if keys is not None:  # every pair is a row: no product, no test of its sources
        query = query.join(keys, keys.c.user_id == user.id).join(
            course, course.id == keys.c.course_id
        )
    elif db.session.get_bind().dialect.name == "postgresql":
        # Each person's own courses (LATERAL): the planner then sees ~2 rows per person, not
        # the product with every course in use (it mis-estimated that one by 10^5 and joined
        # the due dates by scanning them for every pair).
        enrolled = aliased(Enrollment, name="own_e")
        own = sa.union(
            sa.select(enrolled.course_id.label("course_id"))
            .where(enrolled.user_id == user.id)
            .correlate(user),
            sa.select(unit_due.c.course_id)
            .where(unit_due.c.unit_id == user.org_unit_id)
            .correlate(user),
            sa.select(user_due.c.course_id).where(user_due.c.user_id == user.id).correlate(user),
        ).lateral("own")
        query = query.join(own, sa.true()).join(course, course.id == own.c.course_id)
    else:
        # A row needs an enrolment or an active assignment: only courses that have one can
        # appear, so the person x course product covers those, not the whole library.
        query = query.join(course, course.id.in_(_courses_in_use()))
    query = query.outerjoin(
        enrollment, sa.and_(enrollment.user_id == user.id, enrollment.course_id == course.id)
    )
    if keys is None:
        query = query.outerjoin(
            unit_due,
            sa.and_(unit_due.c.unit_id == user.org_unit_id, unit_due.c.course_id == course.id),
        ).outerjoin(
            user_due, sa.and_(user_due.c.user_id == user.id, user_due.c.course_id == course.id)
        )
    query = (
        query.outerjoin(
            record,
            sa.and_(
                record.user_id == user.id,
                record.course_id == course.id,
                record.cycle == record_cycle,
            ),
        )
        .outerjoin(revocation, revocation.record_id == record.id)
        .where(user.is_active_account.is_(True))
    )
    if keys is None:
        query = query.where(
            sa.or_(enrollment.id.is_not(None), unit_due_on.is_not(None), user_due_on.is_not(None))
        )
    if scope.path is not None or filters.unit_path is not None:
        query = query.where(user.org_unit_id.in_(_unit_ids(scope, filters.unit_path)))
    if filters.course_id is not None:
        query = query.where(course.id == filters.course_id)
    if filters.user_id is not None:
        query = query.where(user.id == filters.user_id)
    if filters.status:
        query = query.where(status == filters.status)
    if filters.due_from is not None:
        query = query.where(due >= filters.due_from)
    if filters.due_to is not None:
        query = query.where(due <= filters.due_to)
    if filters.name:
        query = query.where(_name_matches(user, filters.name))
    status_rank = sa.case(
        *[
            (status == s, i)
            for i, s in enumerate(
                ("overdue", "not_started", "in_progress", "expired", "revoked", "completed")
            )
        ],
        else_=9,
    )
    sort_keys = {
        "name": [user.name],
        "unit": [unit.full_name, user.name],
        "course": [course.slug, user.name],
        "status": [status_rank, user.name],
        "due": [due, user.name],
        "started": [enrollment.enrolled_at, user.name],
        "completed": [record.completed_at, user.name],
        "score": [record.score, user.name],
        "expires": [record.expires_at, user.name],
    }
    return _Parts(query, user, unit, course, enrollment, record, revocation, due, status, sort_keys)


def _order(parts: _Parts, filters: ReportFilters, columns=None) -> list:
    """ORDER BY terms: the chosen key (NULLs last either way), then a stable tiebreak."""
    keys = columns if columns is not None else parts.sort_keys[filters.sort]
    first, rest = keys[0], keys[1:]
    ordered = [(first.desc() if filters.descending else first.asc()).nulls_last()]
    ordered += [key.asc() for key in rest]
    return ordered


def _casefold(text: str | None) -> str | None:
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).casefold()


def _name_matches(user, text: str):
    """Case-insensitive substring match on name or e-mail, Cyrillic included.

    PostgreSQL's lower() knows Unicode; SQLite's does not, so there the connection gets a
    small Python function.
    """
    needle = _casefold(text.strip())
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if db.session.get_bind().dialect.name == "sqlite":
        raw = db.session.connection().connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            raw.create_function("kelisim_casefold", 1, _casefold, deterministic=True)
        fold = sa.func.kelisim_casefold
    else:
        fold = sa.func.lower
    return sa.or_(
        fold(user.name).like(pattern, escape="\\"), fold(user.email).like(pattern, escape="\\")
    )


def _row_columns(parts: _Parts):
    u, ou, c, e, cr = parts.user, parts.unit, parts.course, parts.enrollment, parts.record
    return [
        u.id.label("user_id"),
        u.name.label("name"),
        u.email.label("email"),
        ou.id.label("unit_id"),
        ou.full_name.label("unit_name"),
        c.id.label("course_id"),
        c.slug.label("course_slug"),
        parts.status.label("status"),
        parts.due.label("due_on"),
        e.enrolled_at.label("enrolled_at"),
        e.percent_complete.label("percent_complete"),
        cr.completed_at.label("completed_at"),
        cr.score.label("score"),
        cr.expires_at.label("expires_at"),
        cr.certificate_code.label("certificate_code"),
    ]


def _attempts_for(user_id_column, course_id_column):
    return (
        sa.select(sa.func.count(QuizAttempt.id))
        .where(
            QuizAttempt.user_id == user_id_column,
            QuizAttempt.course_id == course_id_column,
            QuizAttempt.submitted_at.is_not(None),
        )
        .scalar_subquery()
        .label("attempts")
    )


def _to_row(row) -> ReportRow:
    return ReportRow(
        user_id=row.user_id,
        name=row.name,
        email=row.email,
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        course_id=row.course_id,
        course_slug=row.course_slug,
        status=row.status,
        is_assigned=row.due_on is not None,
        due_on=row.due_on,
        enrolled_at=row.enrolled_at,
        percent_complete=row.percent_complete,
        completed_at=row.completed_at,
        score=row.score,
        expires_at=row.expires_at,
        certificate_code=row.certificate_code,
        attempts=row.attempts or 0,
    )


def report_statement(
    scope: Scope,
    filters: ReportFilters,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> sa.Select:
    """The report as ONE SELECT: a page (limit/offset) or everything (limit None)."""
    now, today = utcnow(), local_today()
    # A page sorted by name walks the people in that order and stops after it; sorted by
    # anything else, every row is sorted first, and the whole report's row set is the cheaper.
    whole = limit is None or (filters.sort != "name" and filters.user_id is None)
    parts = _row_set(scope, filters, now=now, today=today, whole=whole)
    columns = _row_columns(parts)
    if limit is None:
        query = parts.query.add_columns(*columns, _attempts_for(parts.user.id, parts.course.id))
        return query.order_by(*_order(parts, filters), parts.user.id, parts.course.slug)

    # Inner: the page's rows with their sort keys (cheap columns only); outer: the details.
    sort_columns = [key.label(f"sort_{i}") for i, key in enumerate(parts.sort_keys[filters.sort])]
    inner = (
        parts.query.add_columns(*columns, *sort_columns)
        .order_by(*_order(parts, filters), parts.user.id, parts.course.slug)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    outer_sort = [inner.c[f"sort_{i}"] for i in range(len(sort_columns))]
    return sa.select(
        *[inner.c[col.name] for col in columns], _attempts_for(inner.c.user_id, inner.c.course_id)
    ).order_by(*_order(parts, filters, outer_sort), inner.c.user_id, inner.c.course_slug)


_LOCAL_HOURS = int(LOCAL_TZ.utcoffset(None).total_seconds()) // 3600
_TEXT_DATES = {  # column: with the time of day (minutes) or the date only
    "due_on": None,  # already a local date
    "enrolled_at": False,
    "completed_at": True,
    "expires_at": False,
}


def _text_columns(columns: list, dialect: str) -> list:
    """The report's columns with its dates as text, as the CSV writes them: 'YYYY-MM-DD' (due,
    started, valid until) and 'YYYY-MM-DD HH:MM' (completed), the timestamps moved from UTC to
    Kazakhstan time. The database does it in C; per cell in Python it was ~1/4 of the export."""
    converted = []
    for column in columns:
        kind = _TEXT_DATES.get(column.name, "")
        if kind == "":
            converted.append(column)
            continue
        value = column.element
        if dialect == "postgresql":
            if kind is not None:
                value = sa.func.timezone("UTC", value) + sa.literal_column(
                    f"INTERVAL '{_LOCAL_HOURS} hours'"
                )
            text = sa.func.to_char(value, "YYYY-MM-DD HH24:MI" if kind else "YYYY-MM-DD")
        elif kind is None:  # SQLite keeps a date as its ISO text
            text = sa.type_coerce(value, sa.String)
        elif kind:
            text = sa.func.strftime("%Y-%m-%d %H:%M", value, f"+{_LOCAL_HOURS} hours")
        else:
            text = sa.func.date(value, f"+{_LOCAL_HOURS} hours")
        converted.append(sa.type_coerce(text, sa.String).label(column.name))
    return converted


def report_page(
    scope: Scope, filters: ReportFilters, *, page: int, per_page: int
) -> tuple[list[ReportRow], bool]:
    """One page of the report and whether a next page exists: exactly one query."""
    statement = report_statement(scope, filters, limit=per_page + 1, offset=(page - 1) * per_page)
    rows = [_to_row(row) for row in db.session.execute(statement)]
    return rows[:per_page], len(rows) > per_page


def iter_report(scope: Scope, filters: ReportFilters, *, batch: int = 2000) -> Iterator[sa.Row]:
    """Every row of the report (named like ReportRow's fields), streamed from a server-side
    cursor in batches. Plain rows, not ReportRow: at 100,000s of rows the objects cost seconds."""
    connection = db.session.connection()
    statement = report_statement(scope, filters)
    if connection.dialect.name == "postgresql":
        # A server-side cursor is planned for its first rows (cursor_tuple_fraction 0.1): here
        # every row is wanted, so plan for all of them, and sort in memory rather than on disk.
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        # The whole report costs enough for the JIT compiler, which then spends ~1-2 s
        # compiling expressions for a query that runs a few seconds: no gain here.
        connection.exec_driver_sql("SET LOCAL jit = off")
    # Per statement: Connection.execution_options() would change the connection itself, and
    # its later statements (the SET LOCALs of a second call) would go to server-side cursors.
    result = connection.execute(statement, execution_options={"yield_per": batch})
    try:
        yield from result
    finally:
        result.close()


# --------------------------------------------------------------------------- the dashboard


@dataclass
class DashboardFigures:
    totals: dict[str, int]
    total: int
    by_unit: list[tuple[OrgUnit, dict[str, int], int]]  # direct sub-units (or the unit itself)
    by_month: list[tuple[str, int]]
    score_bins: list[tuple[str, int]]

    def rate(self, status: str) -> float:
        return (self.totals.get(status, 0) * 100 / self.total) if self.total else 0.0


def _row_status(
    record_class: str | None, due: date | None, *, enrolled: bool, today: date
) -> str:
    """The report's status CASE for one row, in Python (see _row_set): `record_class` is that
    of the latest record ("completed", "expired", "revoked") or None without one."""
    if record_class == "completed":
        return "completed"
    if due is not None and due < today:
        return "overdue"
    if record_class is not None:
        return record_class
    return "in_progress" if enrolled else "not_started"


def _record_class(record, revocation, now: datetime):
    """SQL: the class of an (outer-joined) latest record, NULL without one."""
    return sa.case(
        (record.id.is_(None), sa.null()),
        (revocation.id.is_not(None), "revoked"),
        (sa.or_(record.expires_at.is_(None), record.expires_at > now), "completed"),
        else_="expired",
    )


def _unit_dues(
    units: dict[int, str], course_id: int | None
) -> dict[tuple[int, int], date]:
    """Effective due date per (unit, course) through the unit or a parent, for `units`
    ({id: path}): the unit_due of the report (_due_tables), computed from the few active unit
    assignments. A unit's ancestors are exactly the units whose path is a prefix of its path
    ending at a "/" (paths are "/1/4/9/"), so no unit × assignment LIKE join is needed."""
    assigned_unit = aliased(OrgUnit, name="assigned_unit")
    query = (
        sa.select(assigned_unit.path, Assignment.course_id, sa.func.min(Assignment.due_on))
        .join(assigned_unit, assigned_unit.id == Assignment.org_unit_id)
        .where(Assignment.cancelled_at.is_(None))
        .group_by(assigned_unit.path, Assignment.course_id)
    )
    if course_id is not None:
        query = query.where(Assignment.course_id == course_id)
    by_path: dict[str, list[tuple[int, date]]] = {}
    for path, course, due in db.session.execute(query):
        by_path.setdefault(path, []).append((course, due))
    dues: dict[tuple[int, int], date] = {}
    if not by_path:
        return dues
    for unit_id, path in units.items():
        end = path.find("/", 1)
        while end != -1:
            for course, due in by_path.get(path[: end + 1], ()):
                key = (unit_id, course)
                if key not in dues or due < dues[key]:
                    dues[key] = due
            end = path.find("/", end + 1)
    return dues


def counts_by_unit(
    scope: Scope, unit_path: str | None, course_id: int | None
) -> dict[int, dict[str, int]]:
    """Status counts per unit of the report's row set, without deriving each row.

    The row set is every enrolment plus every (person, course) assigned and not started. So:
    one grouped pass over the enrolments (with their latest record) gives, per (unit, course),
    the enrolled and the completed / expired / revoked; people per unit and the unit's due date
    per course give the rest by arithmetic (everyone in a unit is assigned its courses: all of
    them are "overdue" but the completed when the date has passed, else the not enrolled are
    "not_started"). People with a course assigned by name (few) are then moved one by one from
    the status their unit alone gives them to their real one. Same numbers as grouping the
    report's rows (tests/web/test_hr.py checks it), at ~1/5 of the cost: the rows assigned
    but not started are never built, and nothing is looked up per person × course.
    """
    now, today = utcnow(), local_today()
    unit_ids = _unit_ids(scope, unit_path)
    in_scope = sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(unit_ids))
    units = dict(db.session.execute(in_scope).all())
    unit_due = _unit_dues(units, course_id)
    people = dict(
        db.session.execute(
            sa.select(User.org_unit_id, sa.func.count())
            .where(User.org_unit_id.in_(unit_ids), User.is_active_account.is_(True))
            .group_by(User.org_unit_id)
        ).all()
    )

    # Enrolments per (unit, course) and the class of their latest record (see _row_set).
    user = aliased(User, name="u")
    enrollment = aliased(Enrollment, name="e")
    record = aliased(CompletionRecord, name="cr")
    revocation = aliased(RecordRevocation, name="rr")
    record_cycle = sa.case(
        (enrollment.completed_at.is_(None), enrollment.cycle - 1), else_=enrollment.cycle
    )
    # The enrolment's latest record (its cycle's when completed, else the cycle before).
    latest_record = sa.and_(
        record.user_id == enrollment.user_id,
        record.course_id == enrollment.course_id,
        record.cycle == record_cycle,
    )
    valid = sa.and_(
        revocation.id.is_(None), sa.or_(record.expires_at.is_(None), record.expires_at > now)
    )
    query = (
        sa.select(
            user.org_unit_id,
            enrollment.course_id,
            sa.func.count(),
            sa.func.count(record.id),
            sa.func.count(revocation.id),
            sa.func.count(sa.case((valid, record.id))),
        )
        .select_from(user)
        .join(enrollment, enrollment.user_id == user.id)
        .outerjoin(record, latest_record)
        .outerjoin(revocation, revocation.record_id == record.id)
        .where(user.is_active_account.is_(True), user.org_unit_id.in_(unit_ids))
        .group_by(user.org_unit_id, enrollment.course_id)
    )
    if course_id is not None:
        query = query.where(enrollment.course_id == course_id)
    counts: dict[int, dict[str, int]] = {}

    def add(unit_id: int, status: str, n: int) -> None:
        by_status = counts.setdefault(unit_id, {})
        by_status[status] = by_status.get(status, 0) + n

    enrolled: dict[tuple[int, int], int] = {}
    for unit_id, course, n, records, revoked, completed in db.session.execute(query):
        enrolled[(unit_id, course)] = n
        due = unit_due.get((unit_id, course))
        add(unit_id, "completed", completed)
        if due is not None and due < today:
            add(unit_id, "overdue", n - completed)
        else:
            add(unit_id, "revoked", revoked)
            add(unit_id, "expired", records - completed - revoked)
            add(unit_id, "in_progress", n - records)
    # Everyone in a unit has a row for each course assigned to the unit (or a parent).
    for (unit_id, course), due in unit_due.items():
        not_enrolled = people.get(unit_id, 0) - enrolled.get((unit_id, course), 0)
        add(unit_id, "overdue" if due < today else "not_started", not_enrolled)

    # Courses assigned by name: move each such row from its status above to its real one.
    user_due = _due_tables()[1]
    personal = (
        sa.select(
            user.org_unit_id,
            user_due.c.course_id,
            user_due.c.due_on,
            enrollment.id.is_not(None),
            _record_class(record, revocation, now),
        )
        .select_from(user_due)
        .join(user, user.id == user_due.c.user_id)
        .outerjoin(
            enrollment,
            sa.and_(
                enrollment.user_id == user_due.c.user_id,
                enrollment.course_id == user_due.c.course_id,
            ),
        )
        .outerjoin(record, latest_record)
        .outerjoin(revocation, revocation.record_id == record.id)
        .where(user.is_active_account.is_(True), user.org_unit_id.in_(unit_ids))
    )
    if course_id is not None:
        personal = personal.where(user_due.c.course_id == course_id)
    for unit_id, course, own_due, is_enrolled, record_class in db.session.execute(personal):
        due = unit_due.get((unit_id, course))
        if is_enrolled or due is not None:  # counted above by its unit's due date alone
            before = _row_status(record_class, due, enrolled=is_enrolled, today=today)
            add(unit_id, before, -1)
        real_due = own_due if due is None or own_due < due else due
        add(unit_id, _row_status(record_class, real_due, enrolled=is_enrolled, today=today), 1)

    return {
        unit_id: {status: n for status, n in by_status.items() if n}
        for unit_id, by_status in counts.items()
        if any(by_status.values())
    }


def _month_key(column):
    """The month of a timestamp: "YYYY-MM" text on SQLite; on PostgreSQL the month's first
    instant (date_trunc costs a fraction of to_char per row), made "YYYY-MM" by _month_label."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date_trunc("month", sa.func.timezone("UTC", column))
    # SQLite keeps a timestamp as "YYYY-MM-DD HH:MM:SS.ffffff" text (UTC): its first 7
    # characters are strftime('%Y-%m'), without parsing the date of every record.
    return sa.func.substr(column, 1, 7)


def _month_label(value) -> str | None:
    return value if value is None or isinstance(value, str) else value.strftime("%Y-%m")


def _unit_ids(scope: Scope, root_path: str | None):
    """SELECT of the ids of the units under `root_path` (None: all) within the scope.

    Filtering people by `org_unit_id IN (…)` lets the planner read the few hundred units once
    instead of testing each person's unit path.
    """
    query = sa.select(OrgUnit.id)
    if root_path is not None:
        query = query.where(OrgUnit.path.startswith(root_path))
    if scope.path is not None:
        query = query.where(OrgUnit.path.startswith(scope.path))
    return query


def _scoped_records(scope: Scope, root_path: str, course_id: int | None):
    record = aliased(CompletionRecord, name="cr")
    user = aliased(User, name="u")
    query = (
        sa.select()
        .select_from(record)
        .join(user, user.id == record.user_id)
        # coalesce(): keeps SQLite from driving this scan through the people-by-unit index
        # (it reads every record anyway for a large unit, and a small one has few records).
        .where(
            sa.func.coalesce(user.org_unit_id, 0).in_(_unit_ids(scope, root_path)),
            user.is_active_account.is_(True),
        )
    )
    if course_id is not None:
        query = query.where(record.course_id == course_id)
    return query, record


def month_labels(today: date, months: int = 12) -> list[str]:
    """The last `months` months as "YYYY-MM", oldest first."""
    labels = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return labels[::-1]


def dashboard_figures(
    scope: Scope, unit: OrgUnit | None, course_id: int | None
) -> DashboardFigures:
    """Counts per status (total and per direct sub-unit), completions per month, scores.

    `unit` None means every unit (admins): the bars are then the top-level units.
    """
    root_path = unit.path if unit is not None else "/"
    counts = counts_by_unit(scope, root_path, course_id)

    parent = OrgUnit.parent_id == unit.id if unit is not None else OrgUnit.parent_id.is_(None)
    children = list(db.session.scalars(sa.select(OrgUnit).where(parent).order_by(OrgUnit.name)))
    paths = dict(
        db.session.execute(
            sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.path.startswith(root_path))
        ).all()
    )
    totals: dict[str, int] = dict.fromkeys(STATUSES, 0)
    per_child: dict[int, dict[str, int]] = {
        child.id: dict.fromkeys(STATUSES, 0) for child in children
    }
    own = dict.fromkeys(STATUSES, 0)
    for unit_id, by_status in counts.items():
        path = paths.get(unit_id, "")
        target = next((per_child[c.id] for c in children if path.startswith(c.path)), own)
        for status, n in by_status.items():
            totals[status] = totals.get(status, 0) + n
            target[status] = target.get(status, 0) + n
    by_unit = [
        (child, per_child[child.id], sum(per_child[child.id].values())) for child in children
    ]
    if unit is not None and sum(own.values()):
        by_unit.insert(0, (unit, own, sum(own.values())))

    today = local_today()
    labels = month_labels(today)
    # Completions per month and per score band in one pass over the records.
    query, record = _scoped_records(scope, root_path, course_id)
    month = _month_key(record.completed_at).label("month")
    score_bin = sa.case(
        (record.score.is_(None), -1), *[(record.score < (i + 1) * 10, i) for i in range(9)], else_=9
    ).label("bin")
    monthly: dict[str, int] = {}
    binned: dict[int, int] = {}
    for row in db.session.execute(
        query.add_columns(month, score_bin, sa.func.count().label("n")).group_by(month, score_bin)
    ):
        label = _month_label(row.month)
        monthly[label] = monthly.get(label, 0) + row.n
        binned[row.bin] = binned.get(row.bin, 0) + row.n
    by_month = [(label, monthly.get(label, 0)) for label in labels]
    score_bins = [
        (f"{i * 10}–{i * 10 + 9}" if i < 9 else "90–100", binned.get(i, 0)) for i in range(10)
    ]
    return DashboardFigures(totals, sum(totals.values()), by_unit, by_month, score_bins)


# --------------------------------------------------------------------------- learners


@dataclass(frozen=True)
class AssignedCourse:
    course: Course
    revision: CourseRevision
    due_on: date
    enrollment: Enrollment | None
    is_completed: bool

    @property
    def is_overdue(self) -> bool:
        return not self.is_completed and self.due_on < local_today()


def assigned_courses(user) -> list[AssignedCourse]:
    """The learner's active assignments (through their unit, a parent unit, or by name) with the
    earliest due date per course, their enrolment and whether a valid record exists: one query."""
    unit_path = user.org_unit.path
    assigned_unit = aliased(OrgUnit, name="assigned_unit")
    due = (
        sa.select(
            Assignment.course_id.label("course_id"), sa.func.min(Assignment.due_on).label("due_on")
        )
        .outerjoin(assigned_unit, assigned_unit.id == Assignment.org_unit_id)
        .where(
            Assignment.cancelled_at.is_(None),
            sa.or_(
                Assignment.user_id == user.id, sa.literal(unit_path).startswith(assigned_unit.path)
            ),
        )
        .group_by(Assignment.course_id)
        .subquery("due")
    )
    now = utcnow()
    valid = valid_record_exists(user.id, Course.id, now)
    rows = db.session.execute(
        sa.select(Course, CourseRevision, due.c.due_on, Enrollment, valid.label("is_completed"))
        .join(due, due.c.course_id == Course.id)
        .join(CourseRevision, CourseRevision.id == Course.current_revision_id)
        .outerjoin(
            Enrollment, sa.and_(Enrollment.user_id == user.id, Enrollment.course_id == Course.id)
        )
        .order_by(due.c.due_on, Course.slug)
    )
    items = [
        AssignedCourse(course, revision, due_on, enrollment, bool(done))
        for course, revision, due_on, enrollment, done in rows
    ]
    return sorted(items, key=lambda a: (a.is_completed, a.due_on))


# --------------------------------------------------------------------------- the CSV export

# A text cell starting with one of these gets a leading apostrophe (exports.FORMULA_PREFIXES).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = ',"\r\n'  # csv.writer quotes a cell holding one of these


@dataclass(frozen=True)
class ExportTexts:
    """The export's translated texts, already as CSV cells (escaped): status labels by status,
    course titles by course id, and the "assigned" yes/no."""

    labels: dict[str, str]
    titles: dict[int, str]
    yes: str
    no: str


def _escape_text(value: str) -> str:
    """exports.escape_csv_text (without importing the exports module here)."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _csv_quote(text: str) -> str:
    """A text cell as csv.writer (QUOTE_MINIMAL) writes it."""
    if any(char in text for char in _NEEDS_QUOTES):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_quoted(value):
    """SQL for _csv_quote (SQLite: GLOB)."""
    doubled = sa.func.replace(value, '"', '""', type_=sa.String)
    return sa.case(
        (
            value.op("GLOB", is_comparison=True)("*[" + _NEEDS_QUOTES + "]*"),
            sa.literal('"', sa.String) + doubled + '"',
        ),
        else_=value,
    )


def _escaped(value):
    """SQL for exports.escape_csv_text: a leading apostrophe before = + - @ TAB CR."""
    return sa.case(
        (sa.func.substr(value, 1, 1).in_(_FORMULA_STARTS), sa.literal("'") + value),
        else_=value,
    )


def _float_text(value):
    """PostgreSQL's float8 text (shortest round-trip digits, as Python's repr) with Python's
    '.0' for a whole number: 90 -> '90.0', 87.5 -> '87.5', 1e-05 -> '1e-05'."""
    text = sa.cast(value, sa.Text)
    return sa.case((text.regexp_match("[.eEn]"), text), else_=text + ".0")


def export_statement(scope: Scope, filters: ReportFilters, texts: ExportTexts, dialect: str):
    """The whole report as the CSV's final cells, in the report's order (report_statement with
    limit None): every text escaped, labels and titles translated, dates formatted.

    SQLite: each cell as csv.writer writes it (quoted when it holds , " CR or LF; '' for an
    empty cell), numbers as numbers, so that "%s,...,%s\\r\\n" % row is the CSV line once the
    course's id (4th cell) is replaced by its title cell (iter_export_lines).
    PostgreSQL: every cell text (numbers formatted as Python does), NULL for an empty cell
    (COPY's CSV writes '' quoted), for COPY ... TO STDOUT (FORMAT csv)."""
    now, today = utcnow(), local_today()
    parts = _row_set(scope, filters, now=now, today=today, whole=True)
    c = {col.name: col.element for col in _text_columns(_row_columns(parts), dialect)}
    # The submitted quiz attempts per (person, course): one grouped pass joined by hash,
    # instead of a subquery run per row (~1 s of the export on PostgreSQL).
    counted = (
        sa.select(
            QuizAttempt.user_id, QuizAttempt.course_id, sa.func.count(QuizAttempt.id).label("n")
        )
        .where(QuizAttempt.submitted_at.is_not(None))
        .group_by(QuizAttempt.user_id, QuizAttempt.course_id)
        .subquery("qa")
    )
    attempts = counted.c.n

    lite = dialect != "postgresql"

    def text(value):
        value = sa.type_coerce(value, sa.String)
        return sa.func.coalesce(value, "") if lite else sa.func.nullif(value, "")

    def const(value: str | None):  # a text the same on every row, written in Python
        if not value:
            return sa.literal("" if lite else None, sa.String)
        return sa.literal(_csv_quote(value) if lite else value, sa.String)

    def quoted(value):  # a text from the data, escaped
        value = _escaped(value)
        return _csv_quoted(value) if lite else value

    # The status CASE itself with the labels for results: its conditions evaluated once.
    def label(status):
        text = texts.labels.get(status.value)
        if text is None:
            return const(_escape_text(status.value))
        return const(text)

    labels = sa.case(
        *[(condition, label(result)) for condition, result in parts.status.whens],
        else_=label(parts.status.else_),
    )
    # Course titles as a small table joined by course id, not a CASE with a branch per course:
    # a library of 100 courses made that CASE cost more than the rest of the export. SQLite
    # indexes no such table and reads all of it for every row: there the cell is the course id
    # and iter_export_lines writes its title.
    titles = None
    if texts.titles and lite:
        title = sa.case(
            (parts.course.id.in_(list(texts.titles)), parts.course.id),
            else_=quoted(parts.course.slug),
        )
    elif texts.titles:
        titles = sa.union_all(
            *[
                sa.select(sa.literal(key, sa.Integer).label("course_id"), const(value).label("title"))
                for key, value in texts.titles.items()
            ]
        ).subquery("course_titles")
        title = sa.func.coalesce(titles.c.title, quoted(parts.course.slug))
    else:
        title = quoted(parts.course.slug)
    assigned = sa.case(
        (c["due_on"].is_(None), const(texts.no)), else_=const(texts.yes)
    )
    cells = [
        text(quoted(c["name"])),
        text(quoted(c["email"])),
        text(quoted(c["unit_name"])),
        text(title),
        text(labels),
        text(assigned),
        text(c["due_on"]),
        text(c["enrolled_at"]),
        c["percent_complete"],
        text(c["completed_at"]),
        c["score"],
        sa.func.coalesce(attempts, 0),
        text(c["expires_at"]),
        text(quoted(c["certificate_code"])),
    ]
    if lite:  # the numbers stay numbers (Python writes them), '' for none
        cells[8], cells[10] = text(cells[8]), text(cells[10])
    else:
        cells[8] = sa.cast(cells[8], sa.Text)
        cells[10] = _float_text(cells[10])
        cells[11] = sa.cast(cells[11], sa.Text)
    cells = [cell.label(f"c{i}") for i, cell in enumerate(cells)]
    query = parts.query.outerjoin(
        counted,
        sa.and_(counted.c.user_id == parts.user.id, counted.c.course_id == parts.course.id),
    )
    if titles is not None:
        query = query.outerjoin(titles, titles.c.course_id == parts.course.id)
    return query.add_columns(*cells).order_by(
        *_order(parts, filters), parts.user.id, parts.course.slug
    )


class _TitleCells(dict):
    """Course id -> title cell; any other value (a course without a title: its slug cell)
    is its own cell."""

    def __missing__(self, key):
        return key


# The export's own connection settings (SQLite): no memory-mapped database file, a small
# page cache. It reads every row once, so the mapped pages and a 64 MB cache only grew the
# worker (+200 MB at 100,000 people); the operating system's file cache serves the reads.
_EXPORT_PRAGMAS = {"mmap_size": 0, "cache_size": -8192}


def iter_export_lines(
    scope: Scope, filters: ReportFilters, texts: ExportTexts, *, batch: int = 300
) -> Iterator[str]:
    """SQLite: the CSV's lines (export_statement), ~`batch` rows joined per item: the cells
    come final from the raw DB-API cursor (but the course title, looked up by id), Python
    only puts commas between them."""
    connection = db.session.connection()
    statement = export_statement(scope, filters, texts, connection.dialect.name)
    line = ",".join(["%s"] * len(statement.selected_columns)) + "\r\n"
    titles = _TitleCells(
        {key: _csv_quote(value) if value else "" for key, value in texts.titles.items()}
    )
    raw = connection.connection.driver_connection
    saved = {}
    if isinstance(raw, sqlite3.Connection):
        for name, value in _EXPORT_PRAGMAS.items():
            current = raw.execute(f"PRAGMA {name}").fetchone()
            if current is not None:
                saved[name] = current[0]
                raw.execute(f"PRAGMA {name}={value}")
    try:
        result = connection.execute(statement)
        try:
            cursor = result.cursor  # the raw cursor: no per-row work in SQLAlchemy
            format_line = line.__mod__
            while rows := cursor.fetchmany(batch):
                yield "".join(
                    [format_line((*row[:3], titles[row[3]], *row[4:])) for row in rows]
                )
        finally:
            result.close()
    finally:
        for name, value in saved.items():
            raw.execute(f"PRAGMA {name}={int(value)}")


def copy_export_csv(
    scope: Scope, filters: ReportFilters, texts: ExportTexts
) -> Iterator[memoryview]:
    """PostgreSQL: the CSV's records made by the server, `COPY (export_statement) TO STDOUT
    WITH (FORMAT csv)`, one record per item, each ending in '\\n' (the server sends one CopyData
    message per row). UTF-8."""
    connection = db.session.connection()
    statement = export_statement(scope, filters, texts, "postgresql")
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    for key, process in (getattr(compiled, "_bind_processors", None) or {}).items():
        if key in params:
            params[key] = process(params[key])
    connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    connection.exec_driver_sql("SET LOCAL jit = off")
    connection.exec_driver_sql("SET LOCAL client_encoding = 'UTF8'")
    connection.exec_driver_sql("SET LOCAL extra_float_digits = 1")  # shortest, as Python's repr
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            yield from copy
