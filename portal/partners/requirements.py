"""What a client requires from its suppliers: for all of them, or for one supplier."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.documents import partner_status
from portal.models import DocumentType, Requirement, User
from portal.partners import partnerships


def types() -> list[DocumentType]:
    return list(
        db.session.scalars(select(DocumentType).where(DocumentType.active.is_(True)).order_by(DocumentType.sort_order))
    )


def chosen(tenancy: Tenancy, supplier_id: int | None) -> set[str]:
    rows = db.session.scalars(
        select(DocumentType.code)
        .join(Requirement, Requirement.document_type_id == DocumentType.id)
        .where(
            Requirement.requested_by_id == tenancy.organisation.id,
            Requirement.supplier_id.is_(None) if supplier_id is None else Requirement.supplier_id == supplier_id,
        )
    )
    return set(rows)


def save(tenancy: Tenancy, user: User, supplier_id: int | None, codes: list[str]) -> set[str]:
    """Replace the client's requirements for all suppliers (``None``) or for one partner supplier."""
    tenancy.require_role("owner", "member", "collaborator")
    if supplier_id is not None:
        partnerships.shared_with(tenancy, supplier_id)  # 404 unless an accepted partner
    by_code = {t.code: t.id for t in types()}
    unknown = sorted(set(codes) - set(by_code))
    if unknown:  # a tampered form, or an API call with a code the catalogue does not have
        raise InvalidInput({"types": _l("Types de document inconnus : %(codes)s.", codes=", ".join(unknown))})
    wanted = set(codes)
    scope = Requirement.supplier_id.is_(None) if supplier_id is None else Requirement.supplier_id == supplier_id
    db.session.execute(delete(Requirement).where(Requirement.requested_by_id == tenancy.organisation.id, scope))
    for code in sorted(wanted):
        db.session.add(
            Requirement(
                supplier_id=supplier_id, document_type_id=by_code[code], requested_by_id=tenancy.organisation.id
            )
        )
    db.session.flush()
    partner_status.refresh_client(tenancy.organisation.id)
    audit.record(
        "requirements.saved",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        supplier_id=supplier_id,
        types=sorted(wanted),
    )
    db.session.commit()
    return wanted


def asked_by(organisation_ids: list[int], supplier_id: int) -> dict[int, list[DocumentType]]:
    """What each of these clients requires of this supplier (one query), for the pending requests."""
    if not organisation_ids:
        return {}
    found: dict[int, list[DocumentType]] = {}
    rows = db.session.execute(
        select(Requirement.requested_by_id, DocumentType)
        .join(DocumentType, DocumentType.id == Requirement.document_type_id)
        .where(
            Requirement.requested_by_id.in_(organisation_ids),
            (Requirement.supplier_id.is_(None)) | (Requirement.supplier_id == supplier_id),
        )
        .order_by(DocumentType.sort_order)
    )
    for requester_id, document_type in rows:
        found.setdefault(requester_id, []).append(document_type)
    return found
