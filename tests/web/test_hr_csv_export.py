"""The CSV export's fast path (cells made by the database; COPY on PostgreSQL) gives the same
bytes as the reference: the Python row builder (_export_rows, also the XLSX's) through
exports.stream_csv, for tricky texts, empty cells, every status, each filter and sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from learning.accounts.models import User
from learning.extensions import db
from learning.hr import exports, queries, views
from learning.hr.queries import local_today
from learning.progress.models import CompletionRecord
from tests.hr_helpers import assign_unit, assign_user, complete, enroll, unit_id

DEPT = "Region A/Akimat A/Dept A"
TRICKY_DEPT = 'Region A/Akimat A/=Отдел "№1", Әл-Фараби'
AKIMAT = "Region A/Akimat A"

NAMES = [
    '=HYPERLINK("http://evil")',
    "+7 701 000",
    "-1+1",
    "@SUM(A1)",
    "\tTabbed",
    "\rCarriage",
    'Quote "inside", comma',
    "Line\nbreak",
    "Windows\r\nbreak",
    "Айгерим Сәрсенова",
    "Әсем Қасымова-Ұлы",
    "Plain Person",
    "'Already quoted",
    "Trailing space ",
]


def _reference():
    """The reference export: the XLSX's row builder written by stream_csv."""
    scope = views._scope()
    courses = queries.course_options()
    form, units = views._report_form(scope, courses)
    assert form.validate(), form.errors
    filters = views._filters(form, units)
    rows = views._export_rows(scope, filters, {c.id: c for c in courses}, views._language())
    return b"".join(exports.stream_csv(views._export_header(), rows))


@pytest.fixture
def tricky(app, make_user, sample_course):
    ids = []
    for i in range(len(NAMES)):
        org = TRICKY_DEPT if i % 3 == 0 else DEPT
        ids.append(make_user("learner", org=org, name=f"n{i}", email=f"p{i}@example.kz")[0])
    admin_id, _ = make_user("admin", org="Admin Unit")
    with app.app_context():
        # create_user strips names: set the raw ones (leading TAB/CR, newlines) directly
        for user_id, name in zip(ids, NAMES, strict=True):
            db.session.execute(sa.update(User).where(User.id == user_id).values(name=name))
        db.session.execute(
            sa.update(User).where(User.id == ids[1]).values(email="-minus@example.kz")
        )
        db.session.commit()
        assign_unit(DEPT, due=local_today() + timedelta(days=5))
        assign_user(ids[0], due=local_today() - timedelta(days=1))  # overdue
        assign_user(ids[3])  # not started, by name
        scores = [90.0, 87.5, 200 / 3, 0.1 + 0.2, 1e-05, 100.0, None, 0.0]
        for n, user_id in enumerate(ids[4:12]):
            complete(user_id, score=scores[n])
        complete(ids[12], expired=True)
        complete(ids[13], revoked_by=admin_id)
        enroll(ids[0], percent=45)  # overdue, in progress
        record = db.session.scalar(
            sa.select(CompletionRecord).where(CompletionRecord.user_id == ids[5])
        )
        record.expires_at = None  # never expires: an empty "valid until"
        db.session.commit()
        tricky_unit = unit_id(TRICKY_DEPT)
    return {"ids": ids, "tricky_unit": tricky_unit}


QUERIES = [
    "",
    "?sort=name&order=desc",
    "?sort=score&order=desc",
    "?sort=completed",
    "?sort=expires&order=desc",
    "?sort=status",
    "?sort=unit",
    "?sort=due",
    "?sort=started&order=desc",
    "?status=completed",
    "?status=overdue",
    "?status=not_started",
    "?name=әсем",
    "?name=%22",
]


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_fast_csv_is_byte_identical_to_the_reference(
    app, client, login_as, tricky, monkeypatch, language
):
    login_as("hr", org=AKIMAT, language=language)
    # the reference through the same request machinery (user, locale, form), on another URL
    monkeypatch.setitem(app.view_functions, "hr.export_xlsx", _reference)
    due = local_today() + timedelta(days=5)
    queries_ = QUERIES + [
        f"?unit={tricky['tricky_unit']}",
        f"?due_from={due.isoformat()}&due_to={due.isoformat()}",
        f"?due_to={local_today().isoformat()}&sort=name",
    ]
    rows_seen = 0
    for query in queries_:
        fast = client.get("/hr/report.csv" + query)
        assert fast.status_code == 200, query
        reference = client.get("/hr/report.xlsx" + query).get_data()
        body = fast.get_data()
        assert body == reference, (query, body[:3000], reference[:3000])
        rows_seen += body.count(b"@example.kz")
    assert rows_seen > len(NAMES)


def test_fast_csv_writers_yield_large_chunks():
    header = ["Name", "Score"]
    rows = [("Имя " + "x" * 60, 87.5 if i % 2 else None) for i in range(3000)]
    expected = b"".join(exports.stream_csv(header, [list(r) for r in rows]))
    lines = [f"{name},{'' if score is None else score}\r\n" for name, score in rows]
    chunks = list(exports.stream_csv_lines(header, lines))
    assert b"".join(chunks) == expected
    assert len(chunks) >= 2 and all(len(c) >= exports.CHUNK_BYTES for c in chunks[:-1])
    # COPY's records: one per row, ending in \n (a newline inside a quoted cell stays)
    records = [b'"a\nb",1\n'] + [("Имя " + "x" * 60 + ",87.5\n").encode() for _ in range(2999)]
    chunks = list(exports.stream_csv_records(header, iter(records)))
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbfName,Score\r\n\"a\nb\",1\r\n")
    assert body.count(b"\r\n") == 3001 and body.count(b"\n") == 3002
    assert len(chunks) >= 2 and all(len(c) >= exports.CHUNK_BYTES for c in chunks[:-1])


def test_sqlite_export_reads_without_the_mapped_file_and_restores_the_connection(app, tricky):
    """The SQLite export turns off the memory-mapped file and shrinks the page cache of its
    connection while it reads (its worker's memory), then gives the connection back as it was."""
    with app.app_context():
        raw = db.session.connection().connection.driver_connection
        if db.session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite only")

        def pragmas():
            names = queries._EXPORT_PRAGMAS
            return {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

        before = pragmas()
        texts = queries.ExportTexts(labels={}, titles={}, yes="yes", no="no")
        during = []
        lines = queries.iter_export_lines(queries.Scope(None), queries.ReportFilters(), texts)
        for _chunk in lines:
            during.append(pragmas())
        assert during and all(seen == queries._EXPORT_PRAGMAS for seen in during)
        assert pragmas() == before
