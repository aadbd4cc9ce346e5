from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import insert

from portal.core.extensions import db
from portal.models import AuditEvent, utcnow


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


# Built once, on the table rather than the entity: record_now() runs on every API request, and the
# ORM's bulk path (which would also ask for the new id back) costs more than the INSERT itself.
INSERT = insert(AuditEvent.__table__)


def record_now(action: str, *, user_id: int | None = None, organisation_id: int | None = None, **details) -> None:
    """The same row, written at once with one INSERT (no unit of work): for a record per request."""
    db.session.connection().execute(
        INSERT,
        {
            "action": action,
            "user_id": user_id,
            "organisation_id": organisation_id,
            "details": details,
            "ip_address": request.remote_addr if has_request_context() else None,
            "created_at": utcnow(),
        },
    )
