"""Assigning and cancelling courses, and sending reminders. Services only flush; callers commit."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, lazyload

from learning.accounts.models import OrgUnit, User
from learning.audit.services import record_event
from learning.content.models import Course
from learning.db import utcnow
from learning.extensions import db
from learning.hr.models import Assignment, ReminderLog
from learning.hr.queries import MAX_ID, Scope, course_options, local_today
from learning.progress.queries import valid_record_exists

MAX_DUE_YEARS = 5
MAX_PEOPLE_PER_ASSIGNMENT = 500

log = logging.getLogger("kelisim.reminders")


class AssignmentError(ValueError):
    """An assignment the service refuses; the message is fit to show (already translated)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _check_due(due_on: date) -> None:
    today = local_today()
    if due_on < today:
        raise AssignmentError(_l("The due date cannot be in the past."), "due_on")
    if due_on > today + timedelta(days=366 * MAX_DUE_YEARS):
        raise AssignmentError(
            _l("The due date must be within %(years)d years.", years=MAX_DUE_YEARS), "due_on"
        )


def _assignable_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or course.current_revision_id is None or course.is_archived:
        raise AssignmentError(_l("Choose a published course."), "course")
    return course


def _flush_assignments() -> None:
    try:
        db.session.flush()
    except IntegrityError as error:  # a concurrent request assigned the same course first
        raise AssignmentError(
            _l(
                "This course is already assigned there; cancel the existing "
                "assignment first to change its due date."
            ),
            "course",
        ) from error


def assign_to_unit(
    actor: User, scope: Scope, *, course_id: int, unit_id: int, due_on: date, note: str = ""
) -> Assignment:
    """Assign a course to a unit, its sub-units and everyone who joins them later."""
    course = _assignable_course(course_id)
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not scope.covers(unit):
        raise AssignmentError(_l("Choose a unit you are responsible for."), "unit")
    _check_due(due_on)
    existing = db.session.scalar(
        sa.select(Assignment.id).where(
            Assignment.org_unit_id == unit.id,
            Assignment.course_id == course.id,
            Assignment.cancelled_at.is_(None),
        )
    )
    if existing is not None:
        raise AssignmentError(
            _l(
                "This course is already assigned to this unit; cancel the existing "
                "assignment first to change its due date."
            ),
            "course",
        )
    assignment = Assignment(
        course_id=course.id,
        org_unit_id=unit.id,
        due_on=due_on,
        note=note.strip()[:500],
        created_by_id=actor.id,
    )
    db.session.add(assignment)
    _flush_assignments()
    record_event(
        "assignment.create",
        f"assignment:{assignment.id}",
        actor=actor,
        course=course.slug,
        unit_id=unit.id,
        unit=unit.full_name,
        due_on=due_on.isoformat(),
    )
    return assignment


def parse_emails(text: str) -> list[str]:
    """E-mails separated by new lines, commas, semicolons or spaces; lower-cased, de-duplicated."""
    seen: dict[str, None] = {}
    for part in text.replace(",", "\n").replace(";", "\n").split():
        email = part.strip().lower()
        if email:
            seen.setdefault(email, None)
    return list(seen)


def assign_to_people(
    actor: User,
    scope: Scope,
    *,
    course_id: int,
    emails: Iterable[str],
    due_on: date,
    note: str = "",
) -> list[Assignment]:
    """Assign a course to named people of the actor's units: all or none."""
    course = _assignable_course(course_id)
    emails = list(emails)
    if not emails:
        raise AssignmentError(_l("Name at least one person by e-mail."), "people")
    if len(emails) > MAX_PEOPLE_PER_ASSIGNMENT:
        raise AssignmentError(
            _l("At most %(n)d people at once.", n=MAX_PEOPLE_PER_ASSIGNMENT), "people"
        )
    _check_due(due_on)
    if any(len(email) > 254 for email in emails):
        raise AssignmentError(_l("An e-mail address is too long."), "people")
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(emails)))}
    unknown = [e for e in emails if e not in users or not scope.covers(users[e].org_unit)]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
        raise AssignmentError(
            _l("Not found among the people of your units: %(emails)s", emails=shown), "people"
        )
    already = set(
        db.session.scalars(
            sa.select(Assignment.user_id).where(
                Assignment.user_id.in_([u.id for u in users.values()]),
                Assignment.course_id == course.id,
                Assignment.cancelled_at.is_(None),
            )
        )
    )
    if already:
        names = ", ".join(sorted(u.email for u in users.values() if u.id in already)[:10])
        raise AssignmentError(
            _l("Already assigned this course: %(emails)s", emails=names), "people"
        )
    created = [
        Assignment(
            course_id=course.id,
            user_id=users[e].id,
            due_on=due_on,
            note=note.strip()[:500],
            created_by_id=actor.id,
        )
        for e in emails
    ]
    db.session.add_all(created)
    _flush_assignments()
    for assignment, email in zip(created, emails, strict=True):
        record_event(
            "assignment.create",
            f"assignment:{assignment.id}",
            actor=actor,
            course=course.slug,
            user=email,
            due_on=due_on.isoformat(),
        )
    return created


def assignment_in_scope(scope: Scope, assignment_id: int) -> Assignment | None:
    """The assignment if its target (unit or person) lies in the scope."""
    if not 0 < assignment_id <= MAX_ID:
        return None
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        return None
    unit = assignment.org_unit if assignment.org_unit_id else assignment.user.org_unit
    return assignment if scope.covers(unit) else None


def cancel_assignment(actor: User, assignment: Assignment) -> bool:
    """Cancel an active assignment; False when it was already cancelled (nothing changes)."""
    if assignment.cancelled_at is not None:
        return False
    assignment.cancelled_at = utcnow()
    assignment.cancelled_by_id = actor.id
    db.session.flush()
    record_event(
        "assignment.cancel",
        f"assignment:{assignment.id}",
        actor=actor,
        course=assignment.course.slug,
        unit_id=assignment.org_unit_id,
        user_id=assignment.user_id,
    )
    return True


def inherited_assignment(scope: Scope, assignment_id: int) -> Assignment | None:
    """The assignment if it was made to a unit above the scope (so it applies to the scope's
    people) — shown to the scope's HR, but theirs neither to change nor to cancel."""
    if scope.path is None or not 0 < assignment_id <= MAX_ID:
        return None
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.org_unit_id is None:
        return None
    path = assignment.org_unit.path
    return assignment if scope.path.startswith(path) and scope.path != path else None


def list_assignments(
    scope: Scope, *, include_cancelled: bool = False, limit: int = 500
) -> list[tuple[Assignment, OrgUnit | None, User | None, Course, bool]]:
    """Assignments whose target lies in the scope and, marked True at the end (inherited),
    those made to a unit above it, which apply to its people too: soonest due first."""
    target_unit = aliased(OrgUnit, name="target_unit")
    person = aliased(User, name="person")
    person_unit = aliased(OrgUnit, name="person_unit")
    if scope.path is None:
        inherited = sa.false()
    else:  # a unit strictly above the scope: its path is a prefix of the scope's path
        inherited = sa.and_(
            target_unit.path != scope.path, sa.literal(scope.path).startswith(target_unit.path)
        )
    query = (
        sa.select(Assignment, target_unit, person, Course, inherited.label("inherited"))
        .join(Course, Course.id == Assignment.course_id)
        .outerjoin(target_unit, target_unit.id == Assignment.org_unit_id)
        .outerjoin(person, person.id == Assignment.user_id)
        .outerjoin(person_unit, person_unit.id == person.org_unit_id)
        .order_by(Assignment.cancelled_at.is_not(None), Assignment.due_on, Assignment.id.desc())
        .limit(limit)
        .options(lazyload(person.org_unit))  # its eager INNER JOIN would drop unit assignments
    )
    if scope.path is not None:
        query = query.where(
            sa.or_(
                target_unit.path.startswith(scope.path),
                person_unit.path.startswith(scope.path),
                inherited,
            )
        )
    if not include_cancelled:
        query = query.where(Assignment.cancelled_at.is_(None))
    return [
        (assignment, unit, user, course, bool(from_above))
        for assignment, unit, user, course, from_above in db.session.execute(query)
    ]


# --------------------------------------------------------------------------- reminders


@dataclass
class ReminderItem:
    assignment_id: int
    course_id: int
    due_on: date


@dataclass
class Recipient:
    user_id: int
    email: str
    name: str
    language: str | None
    items: list[ReminderItem] = field(default_factory=list)


@dataclass
class ReminderReport:
    sent: int = 0
    logged: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def due_recipients(days: int, today: date) -> list[Recipient]:
    """People with an active assignment due within `days` days (or overdue), no valid completion
    record for its course, and no reminder for it today: one query, grouped in Python."""
    now = utcnow()
    assigned_unit = aliased(OrgUnit, name="assigned_unit")
    member_unit = aliased(OrgUnit, name="member_unit")
    valid_record = valid_record_exists(User.id, Assignment.course_id, now)
    reminded = (
        sa.select(ReminderLog.id)
        .where(
            ReminderLog.assignment_id == Assignment.id,
            ReminderLog.user_id == User.id,
            ReminderLog.sent_on == today,
        )
        .exists()
    )
    by_unit = (
        sa.select(Assignment.id.label("assignment_id"), User.id.label("user_id"))
        .join(assigned_unit, assigned_unit.id == Assignment.org_unit_id)
        .join(member_unit, member_unit.path.startswith(assigned_unit.path))
        .join(User, User.org_unit_id == member_unit.id)
    )
    by_name = sa.select(
        Assignment.id.label("assignment_id"), Assignment.user_id.label("user_id")
    ).where(Assignment.user_id.is_not(None))
    targets = sa.union_all(by_unit, by_name).subquery("targets")
    query = (
        sa.select(
            User.id,
            User.email,
            User.name,
            User.language,
            Assignment.id.label("assignment_id"),
            Assignment.course_id,
            Assignment.due_on,
        )
        .select_from(targets)
        .join(Assignment, Assignment.id == targets.c.assignment_id)
        .join(User, User.id == targets.c.user_id)
        .where(
            Assignment.cancelled_at.is_(None),
            Assignment.due_on <= today + timedelta(days=days),
            User.is_active_account.is_(True),
            ~valid_record,
            ~reminded,
        )
        .order_by(User.id, Assignment.due_on, Assignment.id)
    )
    recipients: list[Recipient] = []
    for row in db.session.execute(query):
        if not recipients or recipients[-1].user_id != row.id:
            recipients.append(Recipient(row.id, row.email, row.name, row.language))
        recipients[-1].items.append(ReminderItem(row.assignment_id, row.course_id, row.due_on))
    return recipients


def _claim(recipient: Recipient, today: date, channel: str) -> int:
    """Insert today's log rows (ON CONFLICT DO NOTHING); how many were new."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed = 0
    now = utcnow()
    for item in recipient.items:
        result = db.session.execute(
            insert(ReminderLog)
            .values(
                assignment_id=item.assignment_id,
                user_id=recipient.user_id,
                sent_on=today,
                sent_at=now,
                channel=channel,
            )
            .on_conflict_do_nothing(index_elements=["assignment_id", "user_id", "sent_on"])
        )
        claimed += result.rowcount or 0
    return claimed


def reminder_message(recipient: Recipient, courses: dict[int, object], today: date) -> EmailMessage:
    """The reminder in the person's language: each course once, with its earliest due date."""
    config = current_app.config
    language = recipient.language or config["DEFAULT_LANGUAGE"]
    earliest: dict[int, date] = {}
    for item in recipient.items:
        if item.course_id not in earliest or item.due_on < earliest[item.course_id]:
            earliest[item.course_id] = item.due_on
    base = config["BASE_URL"].rstrip("/")
    with force_locale(language):
        lines = [
            _("Hello, %(name)s.", name=recipient.name),
            "",
            _("Please complete the training assigned to you:"),
            "",
        ]
        for course_id, due_on in sorted(earliest.items(), key=lambda kv: kv[1]):
            option = courses.get(course_id)
            title = option.title(language) if option else str(course_id)
            slug = option.slug if option else ""
            if due_on < today:
                lines.append(
                    _("- %(title)s: overdue since %(date)s", title=title, date=due_on.isoformat())
                )
            else:
                lines.append(_("- %(title)s: due %(date)s", title=title, date=due_on.isoformat()))
            lines.append(f"  {base}/courses/{slug}")
        lines += ["", _("This is an automatic reminder from Kelisim.")]
        subject = _("Reminder: training due")
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = recipient.email
    message["Subject"] = subject
    message.set_content("\n".join(lines))
    return message


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    use_ssl: bool
    use_starttls: bool


def smtp_settings(url: str) -> SmtpSettings:
    """Parse SMTP_URL: smtp://[user:password@]host[:port][?starttls=1], smtps://… (implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ValueError(
            "SMTP_URL must look like smtp://user:password@host:587?starttls=1 or smtps://…"
        )
    query = parse_qs(parts.query)
    use_ssl = parts.scheme == "smtps"
    use_starttls = parts.scheme == "smtp+starttls" or query.get("starttls", ["0"])[0] in (
        "1",
        "true",
        "yes",
    )
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if use_ssl else 587 if use_starttls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=use_ssl,
        use_starttls=use_starttls,
    )


def open_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=30, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=30)
        if settings.use_starttls:
            client.starttls(context=context)
    if settings.username:
        client.login(settings.username, settings.password or "")
    return client


def send_reminders(
    days: int, *, today: date | None = None, dry_run: bool = False
) -> ReminderReport:
    """Remind everyone due within `days` days or overdue, at most once per assignment and day.

    Each person is one transaction: claim today's log rows (the unique key refuses a second
    reminder, even from a concurrent run), send, commit; a failed send rolls the claim back.
    Without SMTP_URL the messages go to the "kelisim.reminders" log.
    """
    today = today or local_today()
    report = ReminderReport()
    recipients = due_recipients(days, today)
    courses = {option.id: option for option in course_options()}
    db.session.rollback()  # end the reading transaction before the per-person writes
    url = current_app.config.get("SMTP_URL") or ""
    settings = smtp_settings(url) if url else None
    client: smtplib.SMTP | None = None
    try:
        for recipient in recipients:
            message = reminder_message(recipient, courses, today)
            if dry_run:
                log.info("would remind %s:\n%s", recipient.email, message.get_content())
                report.skipped += 1
                continue
            if not _claim(recipient, today, "smtp" if settings else "log"):
                db.session.rollback()
                report.skipped += 1
                continue
            try:
                if settings is None:
                    log.info(
                        "reminder to %s\nSubject: %s\n\n%s",
                        recipient.email,
                        message["Subject"],
                        message.get_content(),
                    )
                    report.logged += 1
                else:
                    if client is None:
                        client = open_smtp(settings)
                    client.send_message(message)
                    report.sent += 1
            except (smtplib.SMTPException, OSError) as error:
                db.session.rollback()
                report.failed.append(f"{recipient.email}: {error}")
                if client is not None:
                    try:
                        client.close()
                    finally:
                        client = None
                continue
            db.session.commit()
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return report
