"""Scale data for benchmarks: `flask demo seed --learners N`.

With N = 100,000: one root unit "Scale Republic" → 5 regions → 50 akimats → 500 departments
holding the learners; three small synthetic courses; about 1,000,000 rows of enrolments,
module progress, completion records (a valid HMAC chain), quiz attempts and xAPI statements;
assignments (one overdue for everyone, one per region, some by name) and an HR user at the
root whose password is printed once.

Rows are generated deterministically (seeded) and written in bulk: COPY on PostgreSQL,
executemany on SQLite, in one transaction. Scale learners share one password hash (of a
random password nobody knows): they are data, not accounts to log in with.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import click
import sqlalchemy as sa
from flask import current_app

from learning.accounts import services as accounts
from learning.accounts.models import OrgUnit, User
from learning.content.models import Course, CourseRevision
from learning.extensions import db
from learning.hr.models import Assignment
from learning.progress import xapi
from learning.progress.models import (
    CompletionRecord,
    Enrollment,
    ModuleProgress,
    RecordChainHead,
    Statement,
)
from learning.progress.records import GENESIS, compute_hmac
from learning.quizzes.models import QuizAttempt

ROOT = "Scale Republic"
REGIONS, AKIMATS, DEPARTMENTS = 5, 10, 10  # 5 × 10 × 10 = 500 departments
EMAIL_DOMAIN = "scale.kelisim.kz"
HR_EMAIL = "hr-scale@demo.kelisim.kz"
BATCH = 20_000
SEED = 20260701

FIRST_NAMES = [
    "Айгерим",
    "Асель",
    "Динара",
    "Жанна",
    "Камила",
    "Мадина",
    "Салтанат",
    "Гульнара",
    "Алия",
    "Томирис",
    "Ерлан",
    "Нурлан",
    "Серик",
    "Данияр",
    "Арман",
    "Бауыржан",
    "Тимур",
    "Руслан",
    "Ольга",
    "Ирина",
    "Сергей",
    "Андрей",
    "Наталья",
    "Виктор",
    "Әсем",
    "Құралай",
    "Ұлан",
    "Өмірзақ",
    "Anna",
    "David",
]
LAST_NAMES = [
    "Абенова",
    "Жумабаев",
    "Касымова",
    "Нурланов",
    "Сапарова",
    "Ахметов",
    "Бекова",
    "Ким",
    "Иванова",
    "Петров",
    "Оспанов",
    "Тулегенова",
    "Есенова",
    "Мусин",
    "Қасымов",
    "Әбілова",
    "Шевченко",
    "Ли",
    "Цой",
    "Рахимова",
]

SCALE_COURSES = [
    (
        "scale-etiquette",
        {
            "ru": "Этикет государственной службы",
            "kk": "Мемлекеттік қызмет әдебі",
            "en": "Etiquette of public service",
        },
    ),
    (
        "scale-languages",
        {
            "ru": "Язык общения с гражданами",
            "kk": "Азаматтармен қарым-қатынас тілі",
            "en": "The language of contact with citizens",
        },
    ),
    (
        "scale-mediation",
        {
            "ru": "Медиация и деэскалация",
            "kk": "Медиация және шиеленісті басу",
            "en": "Mediation and de-escalation",
        },
    ),
]
ENROL_RATE = (0.85, 0.6, 0.35)
COMPLETE_RATE = (0.6, 0.5, 0.4)


def _course_files(slug: str, titles: dict[str, str]) -> dict[str, bytes]:
    title_yaml = ", ".join(f'{lang}: "{text}"' for lang, text in titles.items())
    files = {
        "course.yaml": (
            f"title: {{{title_yaml}}}\n"
            f'description: {{ru: "Синтетический курс для нагрузочных тестов.", en: "A synthetic course for load tests."}}\n'
            "languages: [ru, kk, en]\nduration_minutes: 45\ncompletion: {modules: all, quizzes: all}\n"
            "quiz: {passing_score: 70, max_attempts: 3, shuffle: false, show_answers: after_pass}\n"
            "validity_months: 24\n"
        ),
    }
    for number, name in ((1, "basics"), (2, "practice"), (3, "check")):
        for lang in ("ru", "kk", "en"):
            body = f'---\ntitle: "{name.title()} ({lang})"\nduration_minutes: 15\n---\n\n' + (
                "Text of the module.\n\n## Section\n\nMore text.\n"
            )
            if name == "check":
                body += (
                    "\n```quiz\n::Q1:: A citizen speaks Kazakh. What do you do? {\n"
                    "  =Answer in Kazakh\n  ~Switch languages without asking\n}\n\n"
                    "::Q2:: Respect is shown by listening. {T}\n```\n"
                )
            files[f"0{number}-{name}.{lang}.md"] = body.encode()
    return {
        path: (data.encode() if isinstance(data, str) else data) for path, data in files.items()
    }


def _ensure_courses() -> list[CourseRevision]:
    from learning.content.services import store_revision

    revisions = []
    for slug, titles in SCALE_COURSES:
        course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
        if course is None or course.current_revision is None:
            revision, _created = store_revision(
                slug, _course_files(slug, titles), source="import", note="scale seed"
            )
        else:
            revision = course.current_revision
        revisions.append(revision)
    db.session.flush()
    return revisions


def _ensure_units() -> tuple[OrgUnit, list[int]]:
    """The unit tree; returns the root and the ids of the 500 departments."""
    departments = []
    for r in range(1, REGIONS + 1):
        for a in range(1, AKIMATS + 1):
            for d in range(1, DEPARTMENTS + 1):
                unit = accounts.ensure_org_path(
                    f"{ROOT}/Region {r:02d}/Akimat {r:02d}-{a:02d}/Department {r:02d}-{a:02d}-{d:02d}"
                )
                departments.append(unit.id)
    root = db.session.scalar(
        sa.select(OrgUnit).where(OrgUnit.name == ROOT, OrgUnit.parent_id.is_(None))
    )
    return root, departments


# --------------------------------------------------------------------------- bulk writing


class BulkWriter:
    """Append rows to tables through COPY (PostgreSQL) or executemany (SQLite)."""

    def __init__(self):
        self.connection = db.session.connection()
        self.dialect = self.connection.dialect.name
        self.raw = self.connection.connection.driver_connection
        self.counts: dict[str, int] = {}

    def next_id(self, table: sa.Table, column: str = "id") -> int:
        return (self.connection.scalar(sa.select(sa.func.max(table.c[column]))) or 0) + 1

    def _sqlite_value(self, value):
        if isinstance(value, datetime):
            return (
                value.astimezone(UTC)
                .replace(tzinfo=None)
                .isoformat(sep=" ", timespec="microseconds")
            )
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bool):
            return int(value)
        return value

    def write(self, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        rows = list(rows)
        if not rows:
            return
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            from psycopg.types.json import Jsonb

            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(
                            [Jsonb(v) if isinstance(v, (dict, list)) else v for v in row]
                        )
        else:
            marks = ", ".join("?" for _ in columns)
            cursor = self.raw.cursor()
            try:
                cursor.executemany(
                    f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                    ([self._sqlite_value(v) for v in row] for row in rows),
                )
            finally:
                cursor.close()

    def fix_sequences(self, tables: Iterable[tuple[sa.Table, str]]) -> None:
        if self.dialect != "postgresql":
            return
        for table, column in tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                f"(SELECT COALESCE(MAX({column}), 1) FROM {table.name}))"
            )


# --------------------------------------------------------------------------- the seed


def _random_moment(rng: random.Random, now: datetime, days_back: int) -> datetime:
    return now - timedelta(seconds=rng.randrange(3600, days_back * 86400))


def seed_scale(learners: int, *, echo=click.echo) -> dict[str, int]:
    """Create `learners` learners with progress, completions and assignments; returns row counts."""
    started = time.perf_counter()
    existing = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.email.like(f"%@{EMAIL_DOMAIN}"))
    )
    if existing:
        echo(f"Scale data already present ({existing} learners); nothing done.")
        return {}
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    revisions = _ensure_courses()
    root, departments = _ensure_units()
    hr_password = None
    hr = accounts.find_user_by_email(HR_EMAIL)
    if hr is None:
        hr, hr_password = accounts.create_user(HR_EMAIL, role="hr", org_path=ROOT, name="Scale HR")
    db.session.flush()

    writer = BulkWriter()
    user_id = writer.next_id(User.__table__)
    enrollment_id = writer.next_id(Enrollment.__table__)
    progress_id = writer.next_id(ModuleProgress.__table__)
    attempt_id = writer.next_id(QuizAttempt.__table__)
    password_hash = accounts.hash_password(secrets.token_urlsafe(24))

    users, enrollments, progress, attempts = [], [], [], []
    completions: list[tuple] = []  # (completed_at, user_id, email, name, course index, score)
    modules = [[m["slug"] for m in rev.structure["modules"]] for rev in revisions]
    user_columns = (
        "id",
        "email",
        "name",
        "password_hash",
        "role",
        "org_unit_id",
        "language",
        "is_active_account",
        "created_at",
        "password_changed_at",
    )
    enrollment_columns = (
        "id",
        "user_id",
        "course_id",
        "revision_id",
        "cycle",
        "enrolled_at",
        "completed_at",
        "percent_complete",
        "last_module_slug",
    )
    progress_columns = (
        "id",
        "user_id",
        "revision_id",
        "module_slug",
        "cycle",
        "status",
        "first_seen_at",
        "last_seen_at",
        "read_at",
        "completed_at",
        "seconds_spent",
        "position",
        "best_score",
        "attempts",
        "is_quiz_passed",
    )
    attempt_columns = (
        "id",
        "user_id",
        "course_id",
        "revision_id",
        "module_slug",
        "cycle",
        "number",
        "language",
        "token",
        "questions",
        "started_at",
        "deadline_at",
        "submitted_at",
        "responses",
        "results",
        "score",
        "is_passed",
        "has_pending",
    )

    tables = (
        (User.__table__, user_columns, users),
        (Enrollment.__table__, enrollment_columns, enrollments),
        (ModuleProgress.__table__, progress_columns, progress),
        (QuizAttempt.__table__, attempt_columns, attempts),
    )

    def flush(force: bool = False) -> None:
        # All tables together, users first: the others refer to them.
        if force or any(len(rows) >= BATCH for _table, _columns, rows in tables):
            for table, columns, rows in tables:
                writer.write(table, columns, rows)
                rows.clear()

    for n in range(learners):
        uid = user_id + n
        email = f"learner{n + 1:06d}@{EMAIL_DOMAIN}"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        created = _random_moment(rng, now, 1200)
        users.append(
            (
                uid,
                email,
                name,
                password_hash,
                "learner",
                departments[n % len(departments)],
                rng.choice(("kk", "ru", "ru", "en", None)),
                True,
                created,
                created,
            )
        )
        for index, revision in enumerate(revisions):
            if rng.random() >= ENROL_RATE[index]:
                continue
            enrolled = _random_moment(rng, now, 900)
            slugs = modules[index]
            is_done = rng.random() < COMPLETE_RATE[index]
            seen = len(slugs) if is_done else rng.randrange(0, len(slugs))
            completed_at = None
            score = None
            if is_done:
                completed_at = enrolled + timedelta(
                    days=rng.randrange(0, 30), seconds=rng.randrange(86400)
                )
                completed_at = min(completed_at, now - timedelta(minutes=1))
                score = float(rng.choice((70, 75, 80, 85, 90, 95, 100, 60 + rng.randrange(40))))
                completions.append((completed_at, uid, email, name, index, score))
            percent = 100 if is_done else int(seen * 100 / (len(slugs) + 1))
            enrollments.append(
                (
                    enrollment_id,
                    uid,
                    revision.course_id,
                    revision.id,
                    1,
                    enrolled,
                    completed_at,
                    percent,
                    slugs[max(0, seen - 1)] if seen else None,
                )
            )
            enrollment_id += 1
            for position, slug in enumerate(slugs[: max(seen, 1)]):
                is_quiz = position == len(slugs) - 1
                read = is_done or position < seen - 1
                passed = is_done and is_quiz
                progress.append(
                    (
                        progress_id,
                        uid,
                        revision.id,
                        slug,
                        1,
                        "completed" if (read and (passed or not is_quiz)) else "in_progress",
                        enrolled,
                        enrolled + timedelta(minutes=20),
                        enrolled if read else None,
                        enrolled if (read and (passed or not is_quiz)) else None,
                        rng.randrange(60, 1800),
                        0,
                        score if passed else None,
                        1 if passed else 0,
                        passed,
                    )
                )
                progress_id += 1
            if is_done:
                tries = 1 if score >= 80 else 2
                for number in range(1, tries + 1):
                    final = number == tries
                    attempt_score = score if final else float(rng.randrange(20, 69))
                    started_at = completed_at - timedelta(minutes=15 * (tries - number + 1))
                    attempts.append(
                        (
                            attempt_id,
                            uid,
                            revision.course_id,
                            revision.id,
                            slugs[-1],
                            1,
                            number,
                            "ru",
                            secrets.token_urlsafe(32),
                            [],
                            started_at,
                            None,
                            started_at + timedelta(minutes=10),
                            {},
                            [],
                            attempt_score,
                            final,
                            False,
                        )
                    )
                    attempt_id += 1
        flush()
    flush(force=True)

    _write_completions(writer, completions, revisions, now)
    _write_assignments(root, revisions, hr, user_id, learners, now)
    writer.fix_sequences(
        [
            (User.__table__, "id"),
            (Enrollment.__table__, "id"),
            (ModuleProgress.__table__, "id"),
            (QuizAttempt.__table__, "id"),
            (CompletionRecord.__table__, "id"),
            (Statement.__table__, "seq"),
        ]
    )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))  # fresh planner statistics for the new volume
    db.session.commit()
    counts = dict(writer.counts)
    counts["assignments"] = db.session.scalar(sa.select(sa.func.count(Assignment.id)))
    total = sum(v for k, v in counts.items() if k != "users")
    echo(
        f"Scale data: {learners} learners in {len(departments)} departments under {ROOT!r}; "
        f"{total} progress, completion, attempt and statement rows "
        f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    if hr_password:
        echo(
            f"HR user for the whole scale tree (the password is shown only now): {HR_EMAIL} {hr_password}"
        )
    return counts


def _write_completions(
    writer: BulkWriter, completions: list[tuple], revisions: list[CourseRevision], now: datetime
) -> None:
    """Append completion records after the chain head (in time order) and their statements."""
    key = current_app.config["RECORDS_KEY"]
    base_url = current_app.config["BASE_URL"].rstrip("/")
    head = db.session.scalar(
        sa.select(RecordChainHead).where(RecordChainHead.id == 1).with_for_update()
    )
    if head is None:
        head = RecordChainHead(id=1, sequence=0, hmac=GENESIS)
        db.session.add(head)
        db.session.flush()
    completions.sort(key=lambda c: (c[0], c[1]))
    record_id = writer.next_id(CompletionRecord.__table__)
    statement_seq = writer.next_id(Statement.__table__, "seq")
    sequence, previous = head.sequence, head.hmac
    records, statements = [], []
    record_columns = (
        "id",
        "sequence",
        "user_id",
        "course_id",
        "revision_id",
        "cycle",
        "content_hash",
        "completed_at",
        "score",
        "expires_at",
        "certificate_code",
        "previous_hmac",
        "hmac",
    )
    statement_columns = ("seq", "statement_id", "user_id", "verb", "stored_at", "data")
    rng = random.Random(SEED + 1)
    for completed_at, uid, email, name, index, score in completions:
        revision = revisions[index]
        sequence += 1
        months = revision.structure.get("validity_months")
        record = SimpleNamespace(
            sequence=sequence,
            user_id=uid,
            course_id=revision.course_id,
            revision_id=revision.id,
            cycle=1,
            content_hash=revision.content_hash,
            completed_at=completed_at,
            score=score,
            expires_at=completed_at + timedelta(days=round(months * 30.4375)) if months else None,
            certificate_code=secrets.token_urlsafe(24),
            previous_hmac=previous,
        )
        record.hmac = compute_hmac(record, key)
        previous = record.hmac
        records.append(
            (
                record_id,
                sequence,
                uid,
                record.course_id,
                record.revision_id,
                1,
                record.content_hash,
                completed_at,
                score,
                record.expires_at,
                record.certificate_code,
                record.previous_hmac,
                record.hmac,
            )
        )
        record_id += 1
        statement_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        slug = revision.structure.get("slug") or SCALE_COURSES[index][0]
        data = {
            "id": statement_id,
            "actor": {"objectType": "Agent", "name": name, "mbox": "mailto:" + email},
            "verb": dict(xapi.VERBS["completed"]),
            "object": {
                "objectType": "Activity",
                "id": f"{base_url}/courses/{slug}",
                "definition": {
                    "name": {
                        "ru-RU": SCALE_COURSES[index][1]["ru"],
                        "en-US": SCALE_COURSES[index][1]["en"],
                    }
                },
            },
            "timestamp": completed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "version": xapi.XAPI_VERSION,
            "result": {
                "completion": True,
                "success": True,
                "score": {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100},
            },
        }
        statements.append((statement_seq, statement_id, uid, "completed", completed_at, data))
        statement_seq += 1
        if len(records) >= BATCH:
            writer.write(CompletionRecord.__table__, record_columns, records)
            writer.write(Statement.__table__, statement_columns, statements)
            records.clear()
            statements.clear()
    writer.write(CompletionRecord.__table__, record_columns, records)
    writer.write(Statement.__table__, statement_columns, statements)
    head.sequence, head.hmac = sequence, previous
    db.session.flush()


def _write_assignments(
    root: OrgUnit,
    revisions: list[CourseRevision],
    hr: User,
    first_user: int,
    learners: int,
    now: datetime,
) -> None:
    """The first course for everyone (overdue), the second per region, the third by name."""
    today = now.date()
    items = [
        Assignment(
            course_id=revisions[0].course_id,
            org_unit_id=root.id,
            due_on=today - timedelta(days=10),
            created_by_id=hr.id,
            note="scale seed",
        )
    ]
    regions = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.parent_id == root.id).order_by(OrgUnit.id)
    )
    for offset, region in enumerate(regions):
        items.append(
            Assignment(
                course_id=revisions[1].course_id,
                org_unit_id=region.id,
                due_on=today + timedelta(days=5 + 10 * offset),
                created_by_id=hr.id,
            )
        )
    db.session.add_all(items)
    db.session.flush()
    writer_rows = [
        {
            "course_id": revisions[2].course_id,
            "user_id": first_user + n,
            "due_on": today + timedelta(days=30),
            "note": "",
            "created_at": now,
            "created_by_id": hr.id,
        }
        for n in range(0, learners, 100)
    ]
    if writer_rows:
        db.session.execute(sa.insert(Assignment), writer_rows)
