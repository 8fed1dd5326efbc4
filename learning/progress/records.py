"""Completion records: an append-only chain of HMACs that `flask records verify` re-checks.

Appending locks the chain head row (SELECT … FOR UPDATE on PostgreSQL; SQLite's
BEGIN IMMEDIATE already serialises writers), so concurrent completions never fork it.
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from learning.db import utcnow
from learning.extensions import db
from learning.progress.models import CompletionRecord, RecordChainHead, RecordRevocation

GENESIS = "0" * 64


def new_certificate_code() -> str:
    """192 bits of randomness in URL-safe characters."""
    return secrets.token_urlsafe(24)


def record_payload(record: CompletionRecord) -> bytes:
    fields = {
        "sequence": record.sequence,
        "user_id": record.user_id,
        "course_id": record.course_id,
        "revision_id": record.revision_id,
        "cycle": record.cycle,
        "content_hash": record.content_hash,
        "completed_at": record.completed_at.isoformat(timespec="microseconds"),
        "score": None if record.score is None else f"{record.score:.2f}",
        "expires_at": record.expires_at.isoformat(timespec="microseconds") if record.expires_at else None,
        "certificate_code": record.certificate_code,
        "previous_hmac": record.previous_hmac,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def compute_hmac(record: CompletionRecord, key: str) -> str:
    return hmac_lib.new(key.encode(), record_payload(record), hashlib.sha256).hexdigest()


def _lock_head() -> RecordChainHead:
    """Lock the chain head row, creating it first if this is the very first record.

    The insert is a no-op when another transaction created the row meanwhile, so two
    first completions never collide.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RecordChainHead)
    db.session.execute(insert.values(id=1, sequence=0, hmac=GENESIS).on_conflict_do_nothing())
    return db.session.scalar(
        sa.select(RecordChainHead).where(RecordChainHead.id == 1).with_for_update()
        .execution_options(populate_existing=True)
    )


def complete_course(user, enrollment, view, *, score: float | None) -> CompletionRecord:
    """Append the completion record for this enrolment cycle (once) and its statement."""
    from learning.progress.services import expiry_for
    from learning.progress.statements import record_statement

    head = _lock_head()
    existing = db.session.scalar(
        sa.select(CompletionRecord).where(
            CompletionRecord.user_id == user.id,
            CompletionRecord.course_id == enrollment.course_id,
            CompletionRecord.cycle == enrollment.cycle,
        )
    )
    if existing is not None:
        enrollment.completed_at = existing.completed_at
        return existing
    now = utcnow()
    record = CompletionRecord(
        sequence=head.sequence + 1,
        user_id=user.id,
        course_id=enrollment.course_id,
        revision_id=enrollment.revision_id,
        cycle=enrollment.cycle,
        content_hash=view.revision.content_hash,
        completed_at=now,
        score=score,
        expires_at=expiry_for(view, now),
        certificate_code=new_certificate_code(),
        previous_hmac=head.hmac,
    )
    record.hmac = compute_hmac(record, current_app.config["RECORDS_KEY"])
    db.session.add(record)
    head.sequence = record.sequence
    head.hmac = record.hmac
    enrollment.completed_at = now
    slug = view.structure.get("slug", "")
    result = {"completion": True, "success": True}
    if score is not None:
        result["score"] = {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100}
    record_statement(user, "completed", f"/courses/{slug}", view.structure.get("title", {}), result=result)
    db.session.flush()
    return record


@dataclass
class ChainReport:
    records: int
    problems: list[str]
    head_sequence: int
    head_hmac: str


def verify_chain(key: str) -> ChainReport:
    """Re-check every record's HMAC and link; report alterations, insertions and deletions."""
    problems: list[str] = []
    previous = GENESIS
    expected_sequence = 1
    count = 0
    rows = db.session.execute(sa.select(CompletionRecord).order_by(CompletionRecord.sequence)).scalars()
    for record in rows:
        count += 1
        if record.sequence != expected_sequence:
            problems.append(
                f"record {record.id}: sequence {record.sequence}, expected {expected_sequence} "
                "(a record was deleted or inserted)"
            )
        if record.previous_hmac != previous:
            problems.append(f"record {record.id} (sequence {record.sequence}): does not link to the "
                            "previous record (a record before it was deleted, inserted or altered)")
        if not hmac_lib.compare_digest(compute_hmac(record, key), record.hmac):
            problems.append(f"record {record.id} (sequence {record.sequence}): altered "
                            "(its HMAC does not match its fields)")
        previous = record.hmac
        expected_sequence = record.sequence + 1
    head = db.session.get(RecordChainHead, 1)
    head_sequence = head.sequence if head else 0
    head_hmac = head.hmac if head else GENESIS
    if head_sequence != expected_sequence - 1 or head_hmac != previous:
        problems.append(
            f"chain head says sequence {head_sequence} but the last record is {expected_sequence - 1} "
            "(records at the end were deleted or added)"
        )
    return ChainReport(count, problems, head_sequence, head_hmac)


def is_revoked(record: CompletionRecord) -> RecordRevocation | None:
    return db.session.scalar(sa.select(RecordRevocation).where(RecordRevocation.record_id == record.id))


def record_status(record: CompletionRecord, revocation: RecordRevocation | None) -> str:
    if revocation is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= utcnow():
        return "expired"
    return "valid"
