"""Writing xAPI statements for every learning event."""

from __future__ import annotations

import uuid

from flask import current_app

from learning.db import utcnow
from learning.extensions import db
from learning.progress import xapi
from learning.progress.models import Statement


def record_statement(user, verb: str, object_path: str, object_name: dict, *,
                     result: dict | None = None, parent_path: str | None = None,
                     voided_statement_id: str | None = None) -> Statement:
    """Build, validate and store one statement in the current transaction."""
    names = {xapi_language(lang): text for lang, text in (object_name or {}).items() if text}
    data = xapi.build_statement(
        statement_id=str(uuid.uuid4()),
        verb=verb,
        actor_email=user.email,
        actor_name=user.name,
        base_url=current_app.config["BASE_URL"],
        object_path=object_path,
        object_name=names or {"en-US": object_path},
        timestamp=utcnow(),
        result=result,
        parent_path=parent_path,
        voided_statement_id=voided_statement_id,
    )
    problems = xapi.validate_statement(data)
    if problems:  # a bug of ours, never a user's input
        raise ValueError(f"invalid xAPI statement: {problems}")
    statement = Statement(statement_id=data["id"], user_id=user.id, verb=verb, data=data)
    db.session.add(statement)
    return statement


def xapi_language(language: str) -> str:
    return {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}.get(language, language)


def void_completion(user, course_slug: str, completed_at) -> Statement | None:
    """Void the "completed" statement of a revoked completion record."""
    import sqlalchemy as sa

    iri = f"{current_app.config['BASE_URL'].rstrip('/')}/courses/{course_slug}"
    candidates = db.session.scalars(
        sa.select(Statement).where(Statement.user_id == user.id, Statement.verb == "completed")
        .order_by(Statement.seq.desc())
    )
    target = next((s for s in candidates if s.data.get("object", {}).get("id") == iri), None)
    if target is None:
        return None
    return record_statement(user, "voided", f"/courses/{course_slug}", {}, voided_statement_id=target.statement_id)
