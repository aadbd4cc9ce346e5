"""The daily sweep: validated versions become expiring then expired, and suppliers are reminded
30 days before, 7 days before, on the day, then weekly while expired (configurable). Each
reminder is recorded with a unique key, so running the sweep twice never sends one twice."""

from __future__ import annotations

from collections import Counter
from datetime import date

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core import clock
from portal.core.extensions import db
from portal.documents import compliance, partner_status
from portal.messaging import notifications, webhooks
from portal.models import Document, DocumentType, DocumentVersion, ExpiryReminder, Organisation

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
    owners = notifications.owners({organisation.id for _, _, organisation in rows})
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
        for user in owners.get(organisation.id, []):
            notifications.queue_email(
                user.email,
                "document_expiry",
                language=user.language,
                organisation_id=organisation.id,
                user=user,
                organisation=organisation,
                document_type=kind,
                version=version,
                days_left=(version.valid_until - on).days,
                link=url_for("documents.pending", _external=True),
            )
        db.session.commit()
        counts["reminders"] += 1
    return counts
