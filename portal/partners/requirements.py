"""What a client requires from its suppliers: for all of them, or for one supplier."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from portal.core import audit, clock, outbox
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.labels import Joined
from portal.core.tenancy import Tenancy
from portal.documents import partner_status
from portal.messaging import notices, notifications
from portal.models import DocumentType, Organisation, Partnership, Requirement, User
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
    added = wanted - chosen(tenancy, supplier_id)
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
    if added:  # the suppliers hear of it (their digest), after commit
        outbox.enqueue(
            "tell_new_requirements",
            client_id=tenancy.organisation.id,
            supplier_id=supplier_id or 0,
            codes=",".join(sorted(added)),
        )
    db.session.commit()
    return wanted


def tell_new(client_id: int, supplier_id: int, codes: list[str]) -> int:
    """The job: each accepted supplier concerned (one, or all) is told what its client now asks.
    Its key makes a second run add nothing."""
    client = db.session.get(Organisation, client_id)
    kinds = list(
        db.session.scalars(select(DocumentType).where(DocumentType.code.in_(codes)).order_by(DocumentType.sort_order))
    )
    if client is None or not kinds:
        return 0
    query = select(Partnership.target_id).where(Partnership.requester_id == client_id, Partnership.status == "accepted")
    if supplier_id:
        query = query.where(Partnership.target_id == supplier_id)
    suppliers = list(db.session.scalars(query))
    owners = notifications.owners(set(suppliers))
    stored = notices.cadences(user.id for users in owners.values() for user in users)
    paused = notices.paused_clients(suppliers)
    day = clock.today().isoformat()
    link = notices.url("documents.pending")
    for target_id in suppliers:
        notices.notify(
            owners.get(target_id, []),
            target_id,
            "new_requirement",
            f"requirement:{client_id}:{','.join(codes)}:{day}",
            _l("%(client)s vous demande désormais : %(kinds)s.", client=client.legal_name, kinds=Joined(kinds)),
            asked_by=_l(
                "Exigence de votre client %(client)s, pas une obligation légale pour tous.", client=client.legal_name
            )
            if all(kind.legal_basis is None for kind in kinds)
            else "",
            action=_l("Voir mes documents"),
            link=link,
            for_clients=[client_id],
            paused=paused.get(target_id, set()),
            stored=stored,
        )
    db.session.commit()
    return len(suppliers)


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
