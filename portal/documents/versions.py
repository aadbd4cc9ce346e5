"""Supplier side: send a new version of a document, download one's own files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import Gone, NotFound

from portal.core import audit, clock, outbox, tenancy, uploads
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.labels import current_locale
from portal.core.storage import storage
from portal.documents import partner_status, prechecks
from portal.models import Document, DocumentType, DocumentVersion, Mandate, Organisation, User, utcnow
from portal.platforms import connections

log = logging.getLogger(__name__)


class InvalidUpload(InvalidInput):
    """A file or date the supplier must correct."""


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    issued_on: date
    valid_until: date | None = None
    verification_code: str | None = None


def document_type(code: str) -> DocumentType:
    found = db.session.scalar(select(DocumentType).where(DocumentType.code == code, DocumentType.active.is_(True)))
    if found is None:
        raise NotFound()
    return found


def check(document_type: DocumentType, upload: Upload, on: date) -> tuple[str, date | None]:
    """Validate an upload; returns its detected content type and its last valid day."""
    errors = {}
    try:
        content_type = uploads.detect(upload.data)
    except uploads.FileRejected as exc:
        errors["file"] = exc.message
        content_type = ""
    if upload.issued_on > on:
        errors["issued_on"] = _l("La date du document ne peut pas être dans le futur.")
    valid_until = prechecks.validity_end(
        document_type.validity_rule, document_type.validity_months, upload.issued_on, upload.valid_until
    )
    if document_type.validity_rule == "printed_end_date":
        if upload.valid_until is None:
            errors["valid_until"] = _l("Indiquez la date de fin de validité imprimée sur le document.")
        elif upload.valid_until <= upload.issued_on:
            errors["valid_until"] = _l("La fin de validité doit être après la date du document.")
    if valid_until and valid_until < on and "issued_on" not in errors and "valid_until" not in errors:
        field = "valid_until" if document_type.validity_rule == "printed_end_date" else "issued_on"
        errors[field] = _l(
            "Ce document a expiré le %(date)s : envoyez une version plus récente.", date=f"{valid_until:%d/%m/%Y}"
        )
    if document_type.has_verification_code:
        code = (upload.verification_code or "").strip()
        if not code:
            errors["verification_code"] = _l("Recopiez le code de vérification imprimé sur le document.")
        elif not code.isalnum() or not 4 <= len(code) <= 40:
            errors["verification_code"] = _l("Le code ne contient que des lettres et des chiffres (4 à 40).")
    if errors:
        raise InvalidUpload(errors)
    return content_type, valid_until


def document_for(organisation_id: int, document_type_id: int) -> Document:
    """The company's document of that type, created on its first version."""
    document = db.session.scalar(
        select(Document).where(
            Document.organisation_id == organisation_id, Document.document_type_id == document_type_id
        )
    )
    if document is None:
        document = Document(organisation_id=organisation_id, document_type_id=document_type_id)
        db.session.add(document)
        db.session.flush()
    return document


def submit(
    organisation: Organisation,
    user: User | None,
    type_code: str,
    upload: Upload,
    *,
    mandate: Mandate | None = None,
    sync_confirmed: bool | None = None,
) -> DocumentVersion:
    """Store a new version, run the pre-checks, put it in the operators' queue. All or nothing.

    ``sync_confirmed``: what the supplier answered when this type comes from an external platform
    whose sync is on (None: not asked, for uploads that are not the supplier's own)."""
    kind = document_type(type_code)
    if sync_confirmed is False:
        platform = connections.provider_of(organisation.id, type_code)
        if platform is not None:
            raise InvalidUpload(
                {
                    "confirm_sync": _l(
                        "Ce type de document vous parvient par la synchronisation avec %(platform)s : cochez la "
                        "case pour confirmer ; la prochaine synchronisation pourra archiver votre dépôt si la "
                        "plateforme en a une version plus récente.",
                        platform=connections.label(platform),
                    )
                }
            )
    content_type, valid_until = check(kind, upload, clock.today())
    # The pre-checks read the file before anything is stored: a request cut short leaves no file.
    result = automatic_checks(
        organisation, kind, upload, content_type, valid_until, seconds=current_app.config["PRECHECK_REQUEST_SECONDS"]
    )
    stored = storage().save(upload.data)
    try:
        document = document_for(organisation.id, kind.id)
        version = DocumentVersion(
            document_id=document.id,
            organisation_id=organisation.id,
            status="submitted",
            storage_key=stored.key,
            original_filename=upload.filename[:255] or "document",
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            issued_on=upload.issued_on,
            valid_until=valid_until,
            verification_code=(upload.verification_code or "").strip() or None,
            uploaded_by_id=user.id if user else None,
            mandate_id=mandate.id if mandate else None,
            precheck=result,
        )
        db.session.add(version)
        db.session.flush()
        if result["kind"] == ANALYSING:  # too long for the request: a job finishes it
            outbox.enqueue("finish_precheck", version_id=version.id)
        audit.record(
            "document.submitted",
            user_id=user.id if user else None,
            organisation_id=organisation.id,
            version_id=version.id,
            type=kind.code,
            under_mandate=mandate is not None,
        )
        partner_status.refresh_supplier(organisation.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage().delete(stored.key)
        raise
    return version


ANALYSING = "analysing"


def automatic_checks(
    organisation: Organisation,
    kind: DocumentType,
    upload: Upload,
    content_type: str,
    valid_until: date | None,
    *,
    seconds: float,
) -> dict:
    """The pre-checks' report on a file (what it reads) and how it differs from what was declared.
    A file whose text takes longer than ``seconds`` to read gets ``kind: analysing``: the job
    ``finish_precheck`` reads it later with a larger budget ("analyse en cours" meanwhile)."""
    try:
        result = prechecks.run(
            upload.data,
            content_type,
            organisation.siren,
            kind.validity_rule,
            kind.validity_months,
            kind.has_verification_code,
            seconds=seconds,
            memory_mb=current_app.config["PRECHECK_MEMORY_MB"],
            expected_type=kind.code,
            name=organisation.legal_name,
        ).as_dict()
    except prechecks.TooSlow:
        return prechecks.Precheck(kind=ANALYSING).as_dict()
    result["warnings"] += prechecks.compare(result, upload.issued_on, valid_until, upload.verification_code)
    return result


def supplier_notices(version: DocumentVersion, kind: DocumentType, organisation: Organisation) -> list[str]:
    """What the supplier is told at once about the file just sent: it does not look like the type
    chosen, or it names another company (the operator still decides)."""
    check = version.precheck or {}
    notices = []
    detected = check.get("detected_type")
    alternatives = db.session.scalars(select(DocumentType.code).where(DocumentType.alternative_to == kind.code))
    accepted = {kind.code, *alternatives}
    if detected and detected not in accepted:
        other = db.session.scalar(select(DocumentType).where(DocumentType.code == detected))
        notices.append(
            str(
                _l(
                    "Ce fichier ressemble à « %(found)s », pas à « %(chosen)s » : vérifiez que c'est le bon document.",
                    found=other.label(current_locale()) if other else detected,
                    chosen=kind.label(current_locale()),
                )
            )
        )
    subject = check.get("subject_siren")
    if check.get("siren_found") is False and subject and subject != organisation.siren:
        notices.append(
            str(
                _l(
                    "Ce document concerne une autre entreprise (SIREN %(siren)s), pas %(name)s : envoyez le bon "
                    "fichier si c'est une erreur.",
                    siren=subject,
                    name=organisation.legal_name,
                )
            )
        )
    return notices


def finish_precheck(version_id: int) -> None:
    """The job: the pre-check of a file too long to read during its upload. Runs once: only a
    version still "analysing" is read, and one that takes too long even here says so."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None or (version.precheck or {}).get("kind") != ANALYSING:
        return
    document = db.session.get(Document, version.document_id)
    kind = db.session.get(DocumentType, document.document_type_id)
    organisation = db.session.get(Organisation, version.organisation_id)
    upload = Upload(
        data=storage().read(version.storage_key, size=version.size, sha256=version.sha256),
        filename=version.original_filename,
        issued_on=version.issued_on,
        verification_code=version.verification_code,
    )
    try:
        result = automatic_checks(
            organisation,
            kind,
            upload,
            version.content_type,
            version.valid_until,
            seconds=current_app.config["PRECHECK_JOB_SECONDS"],
        )
    except Exception as exc:  # noqa: BLE001 - an unreadable file is reported, not retried forever
        log.warning("version %s: pre-check failed: %s", version_id, exc)
        result = prechecks.Precheck(
            kind="unreadable", warnings=["Texte illisible : pas de vérification automatique."]
        ).as_dict()
    if result["kind"] == ANALYSING:
        result = prechecks.Precheck(kind="unreadable", warnings=[prechecks.TOO_LONG]).as_dict()
    version.precheck = result
    db.session.commit()


def withdraw(organisation: Organisation, user: User, version_id: int) -> DocumentType:
    """Take a refused version out of the file (kept in its history as archived), so it leaves the
    orange tab without being replaced. Only the newest version of its document, once refused."""
    version = own_version(organisation, version_id)
    newest = db.session.scalar(
        select(DocumentVersion.id)
        .where(DocumentVersion.document_id == version.document_id, DocumentVersion.status != "archived")
        .order_by(DocumentVersion.id.desc())
        .limit(1)
    )
    if version.status != "refused" or newest != version.id:
        raise InvalidInput({"withdraw": _l("Seule une version refusée, pas encore remplacée, peut être retirée.")})
    version.status = "archived"
    version.archived_at = utcnow()
    kind = db.session.scalar(
        select(DocumentType)
        .join(Document, Document.document_type_id == DocumentType.id)
        .where(Document.id == version.document_id)
    )
    audit.record(
        "document.withdrawn", user_id=user.id, organisation_id=organisation.id, version_id=version.id, type=kind.code
    )
    partner_status.refresh_supplier(organisation.id)
    db.session.commit()
    return kind


def own_version(organisation: Organisation, version_id: int) -> DocumentVersion:
    """A version of this organisation's file, or 404 (whatever id is guessed)."""
    return tenancy.owned(DocumentVersion, version_id, organisation.id)


class FileRemoved(Gone):
    """410: the retention job removed the file; what it was (dates, states, SHA-256) stays."""

    def __init__(self):
        super().__init__()
        self.explanation = _l(
            "Ce fichier a été supprimé à la fin de sa durée de conservation ; ses dates et son empreinte restent."
        )


def file_of(version: DocumentVersion) -> tuple[Iterator[bytes], str]:
    """The file's chunks, streamed and checked against its size and sha256, and its download name
    (410 when its retention has passed: the file is gone, what it was stays)."""
    if version.file_removed_at is not None:
        raise FileRemoved()
    kind = db.session.scalar(
        select(DocumentType)
        .join(Document, Document.document_type_id == DocumentType.id)
        .where(Document.id == version.document_id)
    )
    return storage().stream(version.storage_key, size=version.size, sha256=version.sha256), uploads.download_name(
        kind.label_fr, version.issued_on, version.content_type
    )
