"""Keep a company's file in sync with its external compliance platforms, per company (SIREN).

A run lists the platform's documents for the company. For each one, by its external id:
- already filed → unchanged (running twice changes nothing);
- newer than the company's current version of that type (by the date it certifies, then its
  issue date) → fetched, checked (a PDF, the upload rules), pre-checked, filed ``valid`` with its
  provenance, and the older local versions of that type archived — in one transaction;
- older → left alone: an older external version never replaces a newer local one.
Nothing is ever deleted. A platform down in the middle of a run leaves the documents already
filed complete and the others untouched; the run is kept with its counts and its error.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.core import audit, clock, outbox, uploads
from portal.core.extensions import db
from portal.core.secrets import open_sealed
from portal.core.storage import storage
from portal.documents import partner_status, prechecks, review, versions
from portal.integrations import compliance_platforms as platforms
from portal.integrations.platform_simulator import SimulatedPlatform, SimulatorState
from portal.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Organisation,
    PlatformConnection,
    PlatformSyncRun,
    utcnow,
)
from portal.platforms import history

LIVE = ("valid", "expiring", "expired", "submitted")


def _simulator_directory() -> Path:
    return Path(current_app.instance_path) / "platform-simulator"


def simulator() -> SimulatorState:
    """The simulated platforms (``PLATFORM_BACKEND=simulator``), read once per process from the
    instance folder, where ``install_simulator`` put them."""
    state = current_app.extensions.get("vigie_platform_simulator")
    if state is None:
        state = current_app.extensions["vigie_platform_simulator"] = SimulatorState.load(_simulator_directory())
    return state


def install_simulator(state: SimulatorState) -> None:
    """Make ``state`` what the simulated platforms hold, for this process and every later one."""
    state.save(_simulator_directory())
    current_app.extensions["vigie_platform_simulator"] = state


def provider(connection: PlatformConnection):
    config = current_app.config
    if config["PLATFORM_BACKEND"] == "http":
        base = config["PLATFORM_API_URLS"].get(connection.platform)
        if not base:
            raise platforms.PlatformError(f"no API URL configured for {connection.platform}")
        return platforms.PlatformClient(
            base,
            open_sealed(connection.credentials).get("api_key", ""),
            timeout=config["PLATFORM_TIMEOUT"],
            retries=config["PLATFORM_RETRIES"],
        )
    return SimulatedPlatform(simulator(), connection.platform)


def _key(certified_on: date | None, issued_on: date) -> tuple[date, date]:
    return (certified_on or issued_on, issued_on)


def _current(organisation_id: int, type_id: int) -> list[DocumentVersion]:
    return list(
        db.session.scalars(
            select(DocumentVersion)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(
                Document.organisation_id == organisation_id,
                Document.document_type_id == type_id,
                DocumentVersion.status.in_(LIVE),
            )
        )
    )


class Skip(Exception):
    """This document is left alone; ``note`` says why (kept in the run's notes)."""

    def __init__(self, note: dict):
        super().__init__(note["code"])
        self.note = note


def _file(
    organisation: Organisation, kind: DocumentType, external: platforms.ExternalDocument, data: bytes, platform: str
) -> tuple[int, dict | None]:
    """File one external document; returns how many versions it archived, and a note.

    It is filed valid (the older versions archived) only when the reader, on a native text, finds the
    company as the document's subject, no other type than the one the platform says, and no other
    certified date. Otherwise — another company's document, a Kbis sent as an attestation, a scan
    nobody can read — it waits for an operator in the review queue, with the reason, and replaces
    nothing: a platform's word is not proof."""
    about = {"issued_on": external.issued_on.isoformat()}
    if uploads.detect_or_none(data) != "application/pdf":
        raise Skip(history.note("not_pdf", external.external_id, kind.code, **about))
    upload = versions.Upload(
        data, external.filename, external.issued_on, external.valid_until, external.verification_code
    )
    try:
        content_type, valid_until = versions.check(kind, upload, clock.today())
    except versions.InvalidUpload as exc:
        refused = history.note("refused", external.external_id, kind.code, fields=sorted(exc.errors), **about)
        raise Skip(refused) from None
    stored = storage().save(data)
    try:
        document = versions.document_for(organisation.id, kind.id)
        result = versions.automatic_checks(
            organisation, kind, upload, content_type, valid_until, seconds=current_app.config["PRECHECK_JOB_SECONDS"]
        )
        if result["kind"] == versions.ANALYSING:  # already a job: too long is final here
            result = prechecks.Precheck(kind="unreadable", warnings=[prechecks.TOO_LONG]).as_dict()
        # Filed valid only on a text the reader read with certainty: a scan read by OCR waits for a person.
        objection = _objection(result, {kind.code, *review.alternatives_of(kind.code)}, external)
        confirmed = objection is None
        now = utcnow()
        newer = _key(external.certified_on, external.issued_on)
        archived = 0
        for previous in _current(organisation.id, kind.id) if confirmed else []:
            if _key(previous.certified_on, previous.issued_on) < newer:
                previous.status, previous.archived_at = "archived", now
                archived += 1
        version = DocumentVersion(
            document_id=document.id,
            organisation_id=organisation.id,
            status="valid" if confirmed else "submitted",
            storage_key=stored.key,
            original_filename=external.filename or "document.pdf",
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            issued_on=external.issued_on,
            certified_on=external.certified_on,
            valid_until=valid_until,
            verification_code=(external.verification_code or "").strip() or None,
            uploaded_at=now,
            reviewed_at=now if confirmed else None,
            precheck=result,
            source_platform=platform,
            external_id=external.external_id,
            fetched_at=now,
        )
        db.session.add(version)
        db.session.flush()
        audit.record(
            "document.synced",
            organisation_id=organisation.id,
            version_id=version.id,
            type=kind.code,
            platform=platform,
            external_id=external.external_id,
            archived=archived,
        )
        partner_status.refresh_supplier(organisation.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage().delete(stored.key)
        raise
    if confirmed:
        return archived, None
    code, read = objection
    return 0, history.note(code, external.external_id, kind.code, siren=organisation.siren, **about, **read)


def _objection(result: dict, accepted: set[str], external: platforms.ExternalDocument) -> tuple[str, dict] | None:
    """Why the reader's findings forbid filing this document valid without a person (None: nothing)."""
    if result.get("kind") != "text":  # a scan, an unreadable PDF: nobody can tell without looking
        return "siren_unreadable", {}
    if result.get("siren_found") is not True:
        return "siren_missing", {}
    if result.get("detected_type") and result["detected_type"] not in accepted:
        return "type_mismatch", {"read_type": result["detected_type"]}
    said = (external.certified_on or external.issued_on).isoformat()
    if result.get("certified_on") and result["certified_on"] != said:
        return "date_mismatch", {"read_date": result["certified_on"]}
    return None


def run(connection_id: int, trigger: str = "periodic") -> PlatformSyncRun | None:
    """One sync of one company with one platform; None when the sync is off (nothing fetched)."""
    connection = db.session.get(PlatformConnection, connection_id)
    if connection is None or not connection.enabled:
        return None
    organisation = db.session.get(Organisation, connection.organisation_id)
    record = PlatformSyncRun(connection_id=connection.id, organisation_id=organisation.id, trigger=trigger)
    db.session.add(record)
    db.session.commit()
    try:
        return _sync(connection, organisation, record.id)
    except Exception as exc:
        # Something of ours broke (the job is retried): the history says so instead of "en cours".
        db.session.rollback()
        db.session.execute(
            update(PlatformSyncRun)
            .where(PlatformSyncRun.id == record.id)
            .values(
                status="failed",
                finished_at=utcnow(),
                error_code="internal",
                error_message=f"Erreur interne : {type(exc).__name__}",
            )
        )
        db.session.commit()
        raise


def _sync(connection: PlatformConnection, organisation: Organisation, record_id: int) -> PlatformSyncRun:
    connection_id = connection.id
    counts = {"new": 0, "archived": 0, "unchanged": 0, "errors": 0}
    notes: list[dict] = []
    failure = None
    try:
        client = provider(connection)
        listed = client.list_documents(connection.account_ref or organisation.siren)
    except (platforms.PlatformDown, platforms.PlatformError) as exc:
        listed, failure = [], exc
    kinds = {t.code: t for t in db.session.scalars(select(DocumentType))}
    known = set(
        db.session.scalars(
            select(DocumentVersion.external_id).where(
                DocumentVersion.organisation_id == organisation.id,
                DocumentVersion.source_platform == connection.platform,
            )
        )
    )
    for external in listed:
        kind = kinds.get(external.type_code)
        if kind is None:
            counts["errors"] += 1
            notes.append(history.note("unknown_type", external.external_id, external.type_code))
            continue
        if external.external_id in known:
            counts["unchanged"] += 1
            continue
        current = _current(organisation.id, kind.id)
        mine = max((_key(v.certified_on, v.issued_on) for v in current), default=None)
        if mine is not None and mine >= _key(external.certified_on, external.issued_on):
            counts["unchanged"] += 1
            notes.append(
                history.note("not_newer", external.external_id, kind.code, issued_on=external.issued_on.isoformat())
            )
            continue
        try:
            data = client.fetch(external.external_id)
            archived, note = _file(organisation, kind, external, data, connection.platform)
            counts["archived"] += archived
            counts["new"] += 1
            if note:
                notes.append(note)
        except platforms.PlatformDown as exc:
            failure = exc
            break
        except Skip as exc:
            counts["errors"] += 1
            notes.append(exc.note)
        except platforms.PlatformError:
            counts["errors"] += 1
            notes.append(
                history.note("bad_file", external.external_id, kind.code, issued_on=external.issued_on.isoformat())
            )
        except IntegrityError:  # another run filed it at the same moment
            db.session.rollback()
            counts["unchanged"] += 1
    record = db.session.get(PlatformSyncRun, record_id)
    connection = db.session.get(PlatformConnection, connection_id)
    record.new, record.archived, record.unchanged, record.errors = (
        counts["new"],
        counts["archived"],
        counts["unchanged"],
        counts["errors"],
    )
    record.notes = notes[:50]
    record.finished_at = utcnow()
    if failure is not None:
        record.status = "failed"
        record.error_code = _failure_code(failure)
        record.error_message = str(failure)[:500]  # the technical detail, for support
    else:
        record.status = "partial" if counts["errors"] else "ok"
        connection.last_synced_at = record.finished_at
        connection.provided_types = sorted({e.type_code for e in listed if e.type_code in kinds})
    db.session.commit()
    return record


def _failure_code(exc: Exception) -> str:
    if isinstance(exc, platforms.PlatformDown):
        return "down"
    if isinstance(exc, platforms.CredentialsRefused):
        return "credentials"
    return "answer"


def run_all() -> int:
    """Hourly: one job per enabled connection."""
    ids = db.session.scalars(select(PlatformConnection.id).where(PlatformConnection.enabled.is_(True))).all()
    for connection_id in ids:
        outbox.enqueue("sync_platform", queue="sync", connection_id=connection_id, trigger="periodic")
    db.session.commit()
    return len(ids)
