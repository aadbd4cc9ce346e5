"""Operators edit the document types and the refusal reasons (audited)."""

from __future__ import annotations

from sqlalchemy import select

from portal.core import audit
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import DocumentType, RefusalReason, User

TYPE_FIELDS = ("label_fr", "label_en", "issuer", "validity_rule", "validity_months", "has_verification_code",
               "collectable", "active", "auto_validate", "retention_years")  # fmt: skip
REASON_FIELDS = ("label_fr", "label_en", "active")


def types(tenancy: Tenancy) -> list[DocumentType]:
    tenancy.require_operator()
    return list(db.session.scalars(select(DocumentType).order_by(DocumentType.sort_order)))


def get_type(tenancy: Tenancy, type_id: int) -> DocumentType:
    tenancy.require_operator()
    return db.get_or_404(DocumentType, type_id)


def update_type(tenancy: Tenancy, operator: User, type_id: int, values: dict) -> DocumentType:
    found = get_type(tenancy, type_id)
    changes = {}
    for name in TYPE_FIELDS:
        value = values.get(name)
        if name == "validity_months" and values.get("validity_rule") != "months_from_issue":
            value = None
        if getattr(found, name) != value:
            changes[name] = [getattr(found, name), value]
            setattr(found, name, value)
    audit.record("document_type.updated", user_id=operator.id, type=found.code, changes=changes)
    db.session.commit()
    return found


def reasons(tenancy: Tenancy) -> list[RefusalReason]:
    tenancy.require_operator()
    return list(db.session.scalars(select(RefusalReason).order_by(RefusalReason.sort_order, RefusalReason.id)))


def get_reason(tenancy: Tenancy, reason_id: int) -> RefusalReason:
    tenancy.require_operator()
    return db.get_or_404(RefusalReason, reason_id)


def save_reason(tenancy: Tenancy, operator: User, values: dict, reason_id: int | None = None) -> RefusalReason:
    tenancy.require_operator()
    if reason_id is None:
        found = RefusalReason(sort_order=1000)
        db.session.add(found)
    else:
        found = get_reason(tenancy, reason_id)
    for name in REASON_FIELDS:
        setattr(found, name, values.get(name))
    db.session.flush()
    audit.record("refusal_reason.saved", user_id=operator.id, reason_id=found.id, label=found.label_fr)
    db.session.commit()
    return found
