"""Operators check what suppliers send: the queue, then Valider or Refuser (audited, emailed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.labels import Localised, current_locale
from portal.core.tenancy import Tenancy
from portal.documents import issuer_links, partner_status
from portal.messaging import notices, notifications, webhooks
from portal.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Organisation,
    RefusalReason,
    User,
    utcnow,
)


class ReviewError(InvalidInput):
    """A decision that cannot be taken as asked."""


@dataclass(frozen=True)
class QueueItem:
    version: DocumentVersion
    document_type: DocumentType
    organisation: Organisation


def with_type_and_company():
    return (
        select(DocumentVersion, DocumentType, Organisation)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .join(Organisation, Organisation.id == DocumentVersion.organisation_id)
    )


def _queue_query():
    return with_type_and_company().where(DocumentVersion.status == "submitted")


def queue(tenancy: Tenancy, *, type_code: str | None, company: str | None, page: int, per_page: int = 25):
    """Submitted versions, oldest first, with their type and company (one query a page)."""
    tenancy.require_operator()
    query = _queue_query()
    if type_code:
        query = query.where(DocumentType.code == type_code)
    if company:
        query = query.where(
            func.lower(Organisation.legal_name).contains(company.lower()) | (Organisation.siren == company.strip())
        )
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(
        query.order_by(DocumentVersion.uploaded_at, DocumentVersion.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [QueueItem(*row) for row in rows], total


def queue_summary(tenancy: Tenancy) -> tuple[int, datetime | None]:
    """How many versions await a decision and when the oldest was sent (one query)."""
    tenancy.require_operator()
    count, oldest = db.session.execute(
        select(func.count(DocumentVersion.id), func.min(DocumentVersion.uploaded_at)).where(
            DocumentVersion.status == "submitted"
        )
    ).one()
    return count, oldest


def next_in_queue(tenancy: Tenancy) -> int | None:
    """The id of the oldest version awaiting a decision, if any."""
    tenancy.require_operator()
    return db.session.scalar(
        select(DocumentVersion.id)
        .where(DocumentVersion.status == "submitted")
        .order_by(DocumentVersion.uploaded_at, DocumentVersion.id)
        .limit(1)
    )


def type_labels() -> dict[str, str]:
    """Every document type's label in the reader's language (what the reader recognised)."""
    language = current_locale()
    return {t.code: t.label(language) for t in db.session.scalars(select(DocumentType))}


def alternatives_of(code: str) -> set[str]:
    """The types accepted in place of this one (RNE_CERT for KBIS)."""
    return set(db.session.scalars(select(DocumentType.code).where(DocumentType.alternative_to == code)))


def issuer_checks(found: QueueItem) -> list[issuer_links.IssuerCheck]:
    """Links to the issuer's verification page for the code typed and the code read."""
    check = found.version.precheck or {}
    return issuer_links.checks_for(
        found.document_type.code, check.get("issuer"), found.version.verification_code, check.get("verification_code")
    )


def item(tenancy: Tenancy, version_id: int) -> QueueItem:
    tenancy.require_operator()
    row = db.session.execute(with_type_and_company().where(DocumentVersion.id == version_id)).first()
    if row is None:
        raise NotFound()
    return QueueItem(*row)


def refusal_reasons() -> list[RefusalReason]:
    return list(
        db.session.scalars(
            select(RefusalReason).where(RefusalReason.active.is_(True)).order_by(RefusalReason.sort_order)
        )
    )


def validate(tenancy: Tenancy, operator: User, version_id: int, valid_until: date | None) -> QueueItem:
    found = item(tenancy, version_id)
    version = found.version
    if version.status != "submitted":
        raise ReviewError({"decision": _l("Ce document a déjà été traité.")})
    if found.document_type.validity_rule == "printed_end_date" and valid_until is None:
        raise ReviewError({"valid_until": _l("Indiquez la fin de validité.")})
    if valid_until and valid_until < version.issued_on:
        raise ReviewError({"valid_until": _l("La fin de validité doit être après la date du document.")})
    archive_older(version)
    version.valid_until = valid_until or version.valid_until
    return decide(found, operator, "valid", "document_validated")


def archive_older(version: DocumentVersion) -> None:
    """A version validated replaces the document's earlier valid, expiring or expired ones."""
    now = utcnow()
    older = db.session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id == version.document_id,
            DocumentVersion.id != version.id,
            DocumentVersion.status.in_(("valid", "expiring", "expired")),
        )
    )
    for previous in older:
        previous.status = "archived"
        previous.archived_at = now


def refuse(tenancy: Tenancy, operator: User, version_id: int, reason_id: int | None, comment: str) -> QueueItem:
    found = item(tenancy, version_id)
    version = found.version
    if version.status != "submitted":
        raise ReviewError({"decision": _l("Ce document a déjà été traité.")})
    reason = db.session.get(RefusalReason, reason_id) if reason_id else None
    if reason is None or not reason.active:
        raise ReviewError({"reason": _l("Choisissez un motif de refus dans la liste.")})
    version.refusal_reason_id = reason.id
    version.refusal_comment = comment.strip() or None
    return decide(
        found,
        operator,
        "refused",
        "document_refused",
        {"reason": reason.label_fr},
        reason=reason,
        comment=version.refusal_comment,
    )


def decide(found: QueueItem, operator: User | None, status: str, template: str, details: dict | None = None, **mail):
    """Record the decision (an operator's, or Vigie's own when ``operator`` is None), audit it, tell
    the supplier, refresh what clients see."""
    version = found.version
    version.status = status
    version.reviewed_by_id = operator.id if operator else None
    version.reviewed_at = utcnow()
    audit.record(
        "document.validated" if status == "valid" else "document.refused",
        user_id=operator.id if operator else None,
        automatic=operator is None,
        organisation_id=version.organisation_id,
        version_id=version.id,
        type=found.document_type.code,
        **(details or {}),
    )
    _tell_supplier(found, template, **mail)
    _tell_endpoints(found, (details or {}).get("reason"))
    partner_status.refresh_supplier(version.organisation_id)
    db.session.commit()
    return found


def _tell_endpoints(found: QueueItem, reason: str | None) -> None:
    """document.validated / document.refused to the supplier's webhooks and its clients' (who are not
    given the refused version's id nor its reason: their pages show neither)."""
    version = found.version
    document = {
        "type": found.document_type.code,
        "state": version.status,
        "issued_on": version.issued_on,
        "valid_until": version.valid_until,
    }
    own = {**document, "document_id": version.id}
    if version.status == "refused":
        own["refusal_reason"] = reason
    for_clients = own if version.status == "valid" else document
    event = "document.validated" if version.status == "valid" else "document.refused"
    webhooks.emit_document_event(event, found.organisation, own, for_clients)


def _tell_supplier(found: QueueItem, template: str, **context) -> None:
    """Email the person who sent the file, or the company's owners when nobody did."""
    version = found.version
    recipients = []
    if version.uploaded_by_id:
        recipients = [db.session.get(User, version.uploaded_by_id)]
    if not recipients or recipients[0] is None:
        recipients = notifications.owners({version.organisation_id}).get(version.organisation_id, [])
    if template == "document_refused":  # urgent: at once by default, never repeated in a digest
        reason = context["reason"]
        notices.notify(
            [user for user in recipients if user is not None],
            version.organisation_id,
            "document_refused",
            f"refused:{version.id}",
            _l(
                "Votre document « %(label)s » a été refusé : %(reason)s.",
                label=Localised(found.document_type),
                reason=Localised(reason),
            ),
            asked_by=context.get("comment") or "",
            action=_l("Mettre à jour"),
            link=url_for("documents.pending", _external=True),
            template=template,
            organisation=found.organisation,
            document_type=found.document_type,
            version=version,
            **context,
        )
        return
    for user in recipients:
        notifications.queue_email(
            user.email,
            template,
            language=user.language,
            organisation_id=version.organisation_id,
            user=user,
            organisation=found.organisation,
            document_type=found.document_type,
            version=version,
            **context,
        )
