"""The collection mandate: the supplier lets the platform fetch some documents for it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.core import audit, uploads
from portal.core.clock import paris_date
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.labels import MANDATE_STATUS_LABELS, current_locale, french_date
from portal.core.pdf import new_pdf, paragraph, titled_page, to_bytes
from portal.core.storage import storage
from portal.core.tenancy import Tenancy
from portal.documents import versions
from portal.integrations import company_data
from portal.messaging import notifications
from portal.models import DocumentType, Mandate, Organisation, User, utcnow


class MandateError(InvalidInput):
    """A mandate action that cannot be done as asked."""


def collectable_types() -> list[DocumentType]:
    return list(
        db.session.scalars(
            select(DocumentType)
            .where(DocumentType.collectable.is_(True), DocumentType.active.is_(True))
            .order_by(DocumentType.sort_order)
        )
    )


# draft (to sign) → submitted (signed, awaiting check) → active | refused; any → revoked;
# draft or refused → cancelled (by the supplier: it leaves the list).
STANDING = ("draft", "submitted", "active")


def reference(mandate: Mandate) -> str:
    return f"M-{mandate.id:06d}"


def of(organisation: Organisation) -> list[Mandate]:
    return list(
        db.session.scalars(
            select(Mandate)
            .where(Mandate.organisation_id == organisation.id, Mandate.status != "cancelled")
            .order_by(Mandate.id.desc())
        )
    )


def overlapping(organisation_id: int, type_codes: list[str]) -> list[tuple[Mandate, list[str]]]:
    """The company's standing mandates that already cover some of these types, with those types."""
    found = []
    for mandate in db.session.scalars(
        select(Mandate)
        .where(Mandate.organisation_id == organisation_id, Mandate.status.in_(STANDING))
        .order_by(Mandate.id)
    ):
        shared = [code for code in type_codes if code in mandate.type_codes]
        if shared:
            found.append((mandate, shared))
    return found


def _own(organisation: Organisation, mandate_id: int) -> Mandate:
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or mandate.organisation_id != organisation.id:
        raise NotFound()
    return mandate


def create(tenancy: Tenancy, user: User, type_codes: list[str], *, overlap_confirmed: bool = False) -> Mandate:
    """A mandate to sign. One that covers types another standing mandate covers is prepared only
    once the supplier confirms, having read which (error key ``confirm_overlap``)."""
    tenancy.require_role("owner", "member")
    types = collectable_types()
    chosen = [t.code for t in types if t.code in type_codes]
    if not chosen:
        raise MandateError({"types": _l("Cochez au moins un type de document.")})
    overlaps = overlapping(tenancy.organisation.id, chosen)
    if overlaps and not overlap_confirmed:
        labels = {t.code: t.label(current_locale()) for t in types}
        described = " ; ".join(
            f"{reference(mandate)} ({MANDATE_STATUS_LABELS[mandate.status]}) : {', '.join(labels[c] for c in shared)}"
            for mandate, shared in overlaps
        )
        raise MandateError(
            {
                "confirm_overlap": _l(
                    "Ces documents sont déjà couverts : %(mandates)s. Une fois validé, le nouveau mandat remplacera "
                    "le mandat actif ; annulez les mandats à signer dont vous n'avez plus besoin. Cochez la case "
                    "pour préparer quand même ce mandat.",
                    mandates=described,
                )
            }
        )
    mandate = Mandate(organisation_id=tenancy.organisation.id, type_codes=chosen, created_by_id=user.id)
    db.session.add(mandate)
    db.session.flush()
    audit.record("mandate.created", user_id=user.id, organisation_id=tenancy.organisation.id, mandate_id=mandate.id)
    db.session.commit()
    return mandate


def pdf(tenancy: Tenancy, user: User, mandate_id: int) -> bytes:
    mandate = _own(tenancy.organisation, mandate_id)
    organisation = tenancy.organisation
    labels = {t.code: t.label_fr for t in collectable_types()}
    document = new_pdf(title="Mandat de collecte")
    titled_page(document, "Mandat de collecte de documents")
    paragraph(
        document,
        f"Je soussigné(e) {user.full_name}, agissant pour le compte de "
        f"{company_data.identity(organisation)}, donne mandat à Vigie de demander et de recevoir "
        "en son nom, auprès des organismes émetteurs, les documents suivants, et de les déposer dans son "
        "dossier de vigilance :",
        after=2,
    )
    for code in mandate.type_codes:
        paragraph(document, f"•  {labels.get(code, code)}", height=7)
    document.ln(4)
    paragraph(
        document,
        "Ce mandat est valable jusqu'à sa révocation, possible à tout moment depuis « Mes préférences ». "
        f"Référence du mandat : M-{mandate.id:06d}, préparé le {french_date(paris_date(mandate.created_at))}.",
        after=10,
    )
    paragraph(document, "Fait à : ______________________   le : ____ / ____ / ________", height=7, after=6)
    paragraph(document, "Signature et cachet de l'entreprise :", height=7)
    return to_bytes(document)


def upload_signed(tenancy: Tenancy, user: User, mandate_id: int, data: bytes, filename: str) -> Mandate:
    tenancy.require_role("owner", "member")
    mandate = _own(tenancy.organisation, mandate_id)
    if mandate.status not in ("draft", "refused"):
        raise MandateError({"file": _l("Ce mandat a déjà été envoyé.")})
    try:
        content_type = uploads.detect(data)
    except uploads.FileRejected as exc:
        raise MandateError({"file": exc.message}) from exc
    stored = storage().save(data)
    mandate.signed_storage_key = stored.key
    mandate.signed_filename = filename[:255] or "mandat"
    mandate.signed_content_type = content_type
    mandate.signed_at = utcnow()
    mandate.status = "submitted"
    audit.record("mandate.signed", user_id=user.id, organisation_id=mandate.organisation_id, mandate_id=mandate.id)
    db.session.commit()
    return mandate


def cancel(tenancy: Tenancy, user: User, mandate_id: int) -> Mandate:
    """A mandate never signed (or refused) is dropped by the supplier; it leaves the list."""
    tenancy.require_role("owner", "member")
    mandate = _own(tenancy.organisation, mandate_id)
    if mandate.status not in ("draft", "refused"):
        raise MandateError({"mandate": _l("Seul un mandat pas encore envoyé signé (ou refusé) peut être annulé.")})
    mandate.status = "cancelled"
    audit.record("mandate.cancelled", user_id=user.id, organisation_id=mandate.organisation_id, mandate_id=mandate.id)
    db.session.commit()
    return mandate


def own(tenancy: Tenancy, mandate_id: int) -> Mandate:
    return _own(tenancy.organisation, mandate_id)


def revoke(tenancy: Tenancy, user: User, mandate_id: int) -> Mandate:
    tenancy.require_role("owner", "member")
    mandate = _own(tenancy.organisation, mandate_id)
    if mandate.status == "revoked":
        return mandate
    mandate.status = "revoked"
    mandate.revoked_at = utcnow()
    audit.record("mandate.revoked", user_id=user.id, organisation_id=mandate.organisation_id, mandate_id=mandate.id)
    db.session.commit()
    return mandate


# Operators


def awaiting_check(tenancy: Tenancy):
    tenancy.require_operator()
    return db.session.execute(
        select(Mandate, Organisation)
        .join(Organisation, Organisation.id == Mandate.organisation_id)
        .where(Mandate.status.in_(("submitted", "active")))
        .order_by(Mandate.status.desc(), Mandate.signed_at)
    ).all()


def _any(tenancy: Tenancy, mandate_id: int) -> Mandate:
    tenancy.require_operator()
    return db.get_or_404(Mandate, mandate_id)


def with_company(tenancy: Tenancy, mandate_id: int) -> tuple[Mandate, Organisation]:
    mandate = _any(tenancy, mandate_id)
    return mandate, db.session.get(Organisation, mandate.organisation_id)


def decide(tenancy: Tenancy, operator: User, mandate_id: int, accept: bool) -> Mandate:
    mandate = _any(tenancy, mandate_id)
    if mandate.status != "submitted":
        raise MandateError({"decision": _l("Ce mandat n'attend pas de vérification.")})
    if accept:
        for other in db.session.scalars(
            select(Mandate).where(Mandate.organisation_id == mandate.organisation_id, Mandate.status == "active")
        ):
            other.status, other.revoked_at = "revoked", utcnow()
    mandate.status = "active" if accept else "refused"
    mandate.validated_by_id = operator.id
    mandate.validated_at = utcnow()
    audit.record(
        "mandate.validated" if accept else "mandate.refused",
        user_id=operator.id,
        organisation_id=mandate.organisation_id,
        mandate_id=mandate.id,
    )
    if accept:
        _tell_owners(mandate, "mandate_activated")
    db.session.commit()
    return mandate


def _tell_owners(mandate: Mandate, template: str, **context) -> None:
    organisation = db.session.get(Organisation, mandate.organisation_id)
    labels = {t.code: t for t in collectable_types()}
    for user in notifications.owners({organisation.id}).get(organisation.id, []):
        notifications.queue_email(
            user.email,
            template,
            language=user.language,
            organisation_id=organisation.id,
            user=user,
            organisation=organisation,
            mandate=mandate,
            reference=reference(mandate),
            types=[labels[code] for code in mandate.type_codes if code in labels],
            **context,
        )


def signed_file(mandate: Mandate) -> bytes:
    if not mandate.signed_storage_key:
        raise NotFound()
    return storage().read(mandate.signed_storage_key)


def signed_file_for_operator(tenancy: Tenancy, mandate_id: int) -> tuple[Mandate, bytes]:
    mandate = _any(tenancy, mandate_id)
    return mandate, signed_file(mandate)


def signed_file_for_supplier(tenancy: Tenancy, mandate_id: int) -> tuple[Mandate, bytes]:
    mandate = _own(tenancy.organisation, mandate_id)
    return mandate, signed_file(mandate)


def collect(tenancy: Tenancy, operator: User, mandate_id: int, type_code: str, upload: versions.Upload):
    """An operator deposits a document fetched under an active mandate; it is marked as such."""
    mandate = _any(tenancy, mandate_id)
    if mandate.status != "active":
        raise MandateError({"type_code": _l("Ce mandat n'est pas actif.")})
    if type_code not in mandate.type_codes:
        raise MandateError({"type_code": _l("Ce type de document n'est pas couvert par le mandat.")})
    organisation = db.session.get(Organisation, mandate.organisation_id)
    version = versions.submit(organisation, operator, type_code, upload, mandate=mandate)
    kind = versions.document_type(type_code)
    _tell_owners(mandate, "document_collected", document_type=kind, version=version)
    db.session.commit()
    return version
