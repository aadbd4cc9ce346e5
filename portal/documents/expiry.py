"""The daily sweep: validated versions become expiring then expired, and suppliers are reminded
30 days before, 7 days before, on the day, then weekly while expired (configurable). Each
reminder is recorded with a unique key, so running the sweep twice never sends one twice."""

from __future__ import annotations

from collections import Counter
from datetime import date

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core import clock
from portal.core.extensions import db
from portal.core.labels import Localised, de
from portal.documents import compliance, partner_status
from portal.messaging import notices, notifications, webhooks
from portal.models import (
    Document,
    DocumentType,
    DocumentVersion,
    ExpiryReminder,
    Organisation,
    Partnership,
    Requirement,
)

WEBHOOK_EXPIRING = ("before-30", "before-7")  # document.expiring at J-30 and J-7


def _tell_endpoints(
    event: str, version: DocumentVersion, kind: DocumentType, organisation: Organisation, **extra
) -> None:
    document = {
        "type": kind.code,
        "document_id": version.id,
        "state": version.status,
        "valid_until": version.valid_until,
        **extra,
    }
    webhooks.emit_document_event(event, organisation, document, document)


def reminder_kind(valid_until: date, on: date, before_days: list[int], every: int) -> str | None:
    """Which reminder is due on a day (the latest threshold crossed: a missed one is not replayed)."""
    days_left = (valid_until - on).days
    if days_left >= 0:
        crossed = [threshold for threshold in before_days if days_left <= threshold]
        return f"before-{min(crossed)}" if crossed else None
    weeks = (-days_left) // every
    return f"expired-{weeks}" if weeks >= 1 else None


def sweep(on: date | None = None) -> Counter:
    on = on or clock.today()
    config = current_app.config
    window, before, every = (
        config["EXPIRY_WARNING_DAYS"],
        config["EXPIRY_REMINDER_DAYS"],
        config["EXPIRED_REMINDER_EVERY_DAYS"],
    )
    rows = db.session.execute(
        select(DocumentVersion, DocumentType, Organisation)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .join(Organisation, Organisation.id == DocumentVersion.organisation_id)
        .where(DocumentVersion.status.in_(("valid", "expiring", "expired")), DocumentVersion.valid_until.is_not(None))
    ).all()
    replaced = set(db.session.scalars(select(DocumentVersion.document_id).where(DocumentVersion.status == "submitted")))
    suppliers = {organisation.id for _, _, organisation in rows}
    asking = _clients_asking(suppliers)
    owners = notifications.owners(suppliers | {c.id for found in asking.values() for c in found})
    paused = notices.paused_clients(suppliers, on)
    stored = notices.cadences(user.id for users in owners.values() for user in users)
    counts: Counter = Counter()
    moved = set()
    for version, kind, organisation in rows:
        status = compliance.effective_status(version, on, window)
        if status != version.status:
            version.status = status
            counts[status] += 1
            moved.add(version.organisation_id)
            if status == "expired":
                _tell_endpoints("document.expired", version, kind, organisation)
    for organisation_id in moved:
        partner_status.refresh_supplier(organisation_id)
    db.session.commit()
    for version, kind, organisation in rows:
        reminder = reminder_kind(version.valid_until, on, before, every)
        if reminder is None or version.document_id in replaced:
            continue
        try:
            db.session.add(ExpiryReminder(version_id=version.id, kind=reminder))
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        if reminder in WEBHOOK_EXPIRING:  # once per version and threshold, as the reminder row is
            _tell_endpoints("document.expiring", version, kind, organisation, days_left=(version.valid_until - on).days)
        _remind(version, kind, organisation, on, reminder, owners, asking.get(organisation.id, {}), paused, stored)
        db.session.commit()
        counts["reminders"] += 1
    return counts


def _clients_asking(supplier_ids: set[int]) -> dict[int, dict[Organisation, set[int]]]:
    """For each supplier, its accepted clients and the type ids each requires of it (two queries;
    the legal documents are required by every client, whatever it chose)."""
    if not supplier_ids:
        return {}
    pairs = db.session.execute(
        select(Partnership.target_id, Organisation)
        .join(Organisation, Organisation.id == Partnership.requester_id)
        .where(Partnership.target_id.in_(supplier_ids), Partnership.status == "accepted")
    ).all()
    wanted: dict[tuple[int, int | None], set[int]] = {}
    for client_id, supplier_id, type_id in db.session.execute(
        select(Requirement.requested_by_id, Requirement.supplier_id, Requirement.document_type_id).where(
            Requirement.requested_by_id.in_({client.id for _, client in pairs})
        )
    ):
        wanted.setdefault((client_id, supplier_id), set()).add(type_id)
    found: dict[int, dict[Organisation, set[int]]] = {}
    for supplier_id, client in pairs:
        found.setdefault(supplier_id, {})[client] = wanted.get((client.id, None), set()) | wanted.get(
            (client.id, supplier_id), set()
        )
    return found


def _remind(version, kind, organisation, on, reminder, owners, clients, paused, stored) -> None:
    """The supplier's owners are told (their digest, or at once), on behalf of the clients that
    require the document; at J-30 those clients are told too (their weekly summary)."""
    legal = kind.legal_basis is not None
    asking = [client for client, types in clients.items() if legal or kind.id in types]
    names = ", ".join(sorted(client.legal_name for client in asking))
    if legal:
        asked_by = (
            _l("Obligation légale (%(basis)s). Vos clients : %(names)s.", basis=kind.legal_basis, names=names)
            if names
            else _l("Obligation légale (%(basis)s).", basis=kind.legal_basis)
        )
    else:
        asked_by = _l("Demandé par : %(names)s.", names=names) if names else ""
    days_left = (version.valid_until - on).days
    label, until = Localised(kind), f"{version.valid_until:%d/%m/%Y}"
    if days_left > 0:
        line = lazy_ngettext(
            "« %(label)s » expire demain, le %(date)s.",
            "« %(label)s » expire dans %(num)d jours, le %(date)s.",
            days_left,
            label=label,
            date=until,
        )
    elif days_left == 0:
        line = _l("« %(label)s » expire aujourd'hui.", label=label)
    else:
        line = _l("« %(label)s » a expiré le %(date)s : vos clients le voient comme expiré.", label=label, date=until)
    link = url_for("documents.pending", _external=True)
    notices.notify(
        owners.get(organisation.id, []),
        organisation.id,
        "legal_expiry" if legal else "other_expiry",
        f"expiry:{version.id}:{reminder}",
        line,
        asked_by=asked_by,
        action=_l("Mettre à jour"),
        link=link,
        due_on=version.valid_until,
        for_clients=[client.id for client in asking],
        paused=paused.get(organisation.id, set()),
        stored=stored,
        template="document_expiry",
        organisation=organisation,
        document_type=kind,
        version=version,
        days_left=days_left,
    )
    if reminder != "before-30":
        return
    for client in asking:
        notices.notify(
            owners.get(client.id, []),
            client.id,
            "supplier_expiring",
            f"supplier_expiring:{client.id}:{version.id}",
            _l(
                "« %(label)s » %(de_org)s expire le %(date)s.",
                label=label,
                de_org=de(organisation.legal_name),
                date=until,
            ),
            action=_l("Voir le fournisseur"),
            link=url_for("partners.company", organisation_id=organisation.id, _external=True),
            due_on=version.valid_until,
            stored=stored,
        )
