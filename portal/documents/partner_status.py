"""Keeps each partnership's view of the supplier's compliance up to date (for the clients' dashboard).

Called in the same transaction as any change that can move it: a document sent, validated or
refused, the daily expiry sweep, a requirement saved, a partnership accepted."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.documents import compliance
from portal.messaging import notices, notifications, webhooks
from portal.models import Organisation, Partnership, utcnow
from portal.partners import vigilance


def refresh(partnership: Partnership, supplier: Organisation) -> None:
    vigilance.refresh(partnership, supplier)
    file = compliance.load(supplier, for_client=partnership.requester_id)
    summary = compliance.summary(file)
    # The time of the last change (the API's ``updated_since`` reads it), not of the last look.
    if summary != (partnership.compliance_status, partnership.expiring_count) or partnership.status_updated_at is None:
        before = partnership.compliance_status if partnership.status_updated_at is not None else None
        partnership.compliance_status, partnership.expiring_count = summary
        partnership.status_updated_at = utcnow()
        if (
            before in ("compliant", "in_review")
            and summary[0] in ("expired", "incomplete")
            and partnership.status == "accepted"
        ):
            _tell_client(partnership, supplier, summary[0])
        if before is not None and before != summary[0] and partnership.status == "accepted":
            webhooks.emit(
                "supplier.status_changed",
                {
                    partnership.requester_id: {
                        "supplier": webhooks.company(supplier),
                        "status": summary[0],
                        "previous_status": before,
                        "expiring_documents": summary[1],
                    }
                },
            )


def _tell_client(partnership: Partnership, supplier: Organisation, status: str) -> None:
    """The client's owners hear that a supplier is no longer in order (their weekly summary)."""
    client_id = partnership.requester_id
    notices.notify(
        notifications.owners({client_id}).get(client_id, []),
        client_id,
        "supplier_noncompliant",
        f"noncompliant:{partnership.id}:{clock.today().isoformat()}",
        _l("%(org)s n'est plus en règle : documents expirés.", org=supplier.legal_name)
        if status == "expired"
        else _l("%(org)s n'est plus en règle : documents manquants ou refusés.", org=supplier.legal_name),
        action=_l("Voir le fournisseur"),
        link=notices.url("partners.company", organisation_id=supplier.id),
    )


def refresh_supplier(supplier_id: int) -> None:
    supplier = db.session.get(Organisation, supplier_id)
    for partnership in db.session.scalars(
        select(Partnership).where(
            Partnership.target_id == supplier_id, Partnership.status.in_(("accepted", "suspended"))
        )
    ):
        refresh(partnership, supplier)


def refresh_client(client_id: int) -> None:
    rows = db.session.execute(
        select(Partnership, Organisation)
        .join(Organisation, Organisation.id == Partnership.target_id)
        .where(Partnership.requester_id == client_id, Partnership.status.in_(("accepted", "suspended")))
    ).all()
    for partnership, supplier in rows:
        refresh(partnership, supplier)
