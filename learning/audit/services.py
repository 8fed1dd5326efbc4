"""Recording audit events (who, what, when, from where)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from learning.audit.models import AuditEvent
from learning.extensions import db


def record_event(action: str, target: str = "", *, actor=None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        target=target[:300],
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "",
        ip_address=(request.remote_addr or "")[:64] if has_request_context() else "cli",
        details=details,
    )
    db.session.add(event)
    return event
