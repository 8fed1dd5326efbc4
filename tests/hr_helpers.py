"""HR and API test helpers: progress data, assignments, tokens, query counting, an SMTP sink."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from learning.accounts.models import OrgUnit, User
from learning.content.models import Course
from learning.content.queries import RevisionView
from learning.db import utcnow
from learning.extensions import db
from learning.hr.models import Assignment
from learning.progress.models import CompletionRecord, RecordRevocation


def course_id(slug: str = "sample") -> int:
    return db.session.scalar(sa.select(Course.id).where(Course.slug == slug))


def unit_id(path: str) -> int:
    """Id of the unit at "Region/Akimat/Dept" (names joined by ' / ' in full_name)."""
    full = " / ".join(part.strip() for part in path.split("/"))
    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.full_name == full))


def enroll(user_id: int, slug: str = "sample", percent: int = 30):
    from learning.progress.services import enroll as do_enroll

    user = db.session.get(User, user_id)
    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    enrollment, _ = do_enroll(user, course)
    enrollment.percent_complete = percent
    db.session.commit()
    return enrollment


def complete(
    user_id: int,
    slug: str = "sample",
    score: float | None = 90.0,
    *,
    expired: bool = False,
    revoked_by: int | None = None,
) -> CompletionRecord:
    """Enrol and append a completion record (optionally expired or revoked)."""
    from learning.progress.records import complete_course

    enrollment = enroll(user_id, slug, 100)
    user = db.session.get(User, user_id)
    record = complete_course(user, enrollment, RevisionView(enrollment.revision), score=score)
    if expired:
        record.expires_at = utcnow() - timedelta(days=1)
    if revoked_by is not None:
        db.session.add(
            RecordRevocation(record_id=record.id, revoked_by_id=revoked_by, reason="test")
        )
    db.session.commit()
    return record


def assign_unit(
    path: str, slug: str = "sample", due: date | None = None, by: int | None = None
) -> int:
    assignment = Assignment(
        course_id=course_id(slug),
        org_unit_id=unit_id(path),
        due_on=due or date.today() + timedelta(days=30),
        created_by_id=by,
    )
    db.session.add(assignment)
    db.session.commit()
    return assignment.id


def assign_user(user_id: int, slug: str = "sample", due: date | None = None) -> int:
    assignment = Assignment(
        course_id=course_id(slug), user_id=user_id, due_on=due or date.today() + timedelta(days=30)
    )
    db.session.add(assignment)
    db.session.commit()
    return assignment.id


def api_token(email: str) -> str:
    from learning.api.services import create_token

    _row, token = create_token(email)
    db.session.commit()
    return token


@contextlib.contextmanager
def count_queries(engine):
    """Collect the SQL statements run on `engine` inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


# --------------------------------------------------------------------------- SMTP sink


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greet, EHLO, MAIL, RCPT, DATA, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self._reply("220 sink ready")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 sink")
            elif verb == "MAIL":
                sender, recipients = command[10:].strip(" <>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command[8:].strip(" <>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with .")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.server.messages.append((sender, recipients, b"".join(lines)))
                self._reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


@contextlib.contextmanager
def smtp_sink():
    """A local SMTP server on a free port; yields (url, messages)."""
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{server.server_address[1]}", server.messages
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
