from __future__ import annotations

from flask import has_request_context, request

from portal.core.extensions import db
from portal.models import AuditEvent


def record(action: str, *, user_id: int | None = None, organisation_id: int | None = None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    event = AuditEvent(
        action=action,
        user_id=user_id,
        organisation_id=organisation_id,
        details=details,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
