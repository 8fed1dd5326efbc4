"""Writing xAPI statements for every learning event."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app

from learning.db import utcnow
from learning.extensions import db
from learning.prepared import Prepared
from learning.progress import xapi
from learning.progress.models import Statement


def record_statement(user, verb: str, object_path: str, object_name: dict, *,
                     result: dict | None = None, parent_path: str | None = None,
                     voided_statement_id: str | None = None) -> Statement:
    """Build, validate and store one statement in the current transaction."""
    statement = Statement(**statement_values(user, verb, object_path, object_name, result=result,
                                             parent_path=parent_path,
                                             voided_statement_id=voided_statement_id))
    db.session.add(statement)
    return statement


def insert_statement(user, verb: str, object_path: str, object_name: dict, *,
                     result: dict | None = None, parent_path: str | None = None) -> None:
    """record_statement for a request that writes with Core statements: one INSERT, now."""
    values = statement_values(user, verb, object_path, object_name, result=result,
                              parent_path=parent_path)
    db.session.connection().execute(_INSERT, values)


_INSERT = sa.insert(Statement.__table__)


def write_statement(user, verb: str, object_path: str, object_name: dict, *,
                    result: dict | None = None, parent_path: str | None = None) -> None:
    """insert_statement on the request's prepared connection (learning.prepared), for a
    request writing in its write_transaction: the same row."""
    _PREPARED_INSERT.run(**statement_values(user, verb, object_path, object_name, result=result,
                                            parent_path=parent_path))


# The columns statement_values gives.
COLUMNS = ("statement_id", "user_id", "verb", "stored_at", "data")
_PREPARED_INSERT = Prepared(sa.insert(Statement.__table__).values(
    {name: sa.bindparam(name) for name in COLUMNS}
))


def statement_values(user, verb: str, object_path: str, object_name: dict, *,
                     result: dict | None = None, parent_path: str | None = None,
                     voided_statement_id: str | None = None) -> dict:
    """The columns of one statement, built and validated (build_statement raises ValueError
    for an invalid one: a bug of ours, never a user's input)."""
    names = {xapi_language(lang): text for lang, text in (object_name or {}).items() if text}
    now = utcnow()
    data = xapi.build_statement(
        statement_id=str(uuid.uuid4()),
        verb=verb,
        actor_email=user.email,
        actor_name=user.name,
        base_url=current_app.config["BASE_URL"],
        object_path=object_path,
        object_name=names or {"en-US": object_path},
        timestamp=now,
        result=result,
        parent_path=parent_path,
        voided_statement_id=voided_statement_id,
    )
    return {"statement_id": data["id"], "user_id": user.id, "verb": verb, "stored_at": now, "data": data}


def xapi_language(language: str) -> str:
    return {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}.get(language, language)


def void_completion(user, course_slug: str, completed_at) -> Statement | None:
    """Void the "completed" statement of a revoked completion record."""
    iri = f"{current_app.config['BASE_URL'].rstrip('/')}/courses/{course_slug}"
    candidates = db.session.scalars(
        sa.select(Statement).where(Statement.user_id == user.id, Statement.verb == "completed")
        .order_by(Statement.seq.desc())
    )
    target = next((s for s in candidates if s.data.get("object", {}).get("id") == iri), None)
    if target is None:
        return None
    return record_statement(user, "voided", f"/courses/{course_slug}", {}, voided_statement_id=target.statement_id)
