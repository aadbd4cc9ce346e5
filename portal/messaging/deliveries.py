"""What the platform sent, for operators: every email and SMS with its state."""

from __future__ import annotations

from sqlalchemy import select

from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import Message


def page(tenancy: Tenancy, *, status: str | None, page: int, per_page: int = 50):
    tenancy.require_operator()
    query = select(Message).order_by(Message.id.desc())
    if status:
        query = query.where(Message.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
