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

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from portal.core import audit, outbox, uploads
from portal.core.exceptions import InvalidInput, Refused
from portal.core.extensions import db
from portal.core.secrets import open_sealed, seal
from portal.core.storage import storage
from portal.core.tenancy import Tenancy
from portal.documents import compliance, partner_status
from portal.documents import versions as documents
from portal.integrations import compliance_platforms as platforms
from portal.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Establishment,
    Membership,
    Organisation,
    PlatformConnection,
    PlatformSyncRun,
    User,
    utcnow,
)

LIVE = ("valid", "expiring", "expired", "submitted")


def label(platform: str) -> str:
    return platforms.PLATFORMS.get(platform, platform)


def simulator() -> platforms.SimulatorState:
    state = current_app.extensions.get("vigie_platform_simulator")
    if state is None:
        state = current_app.extensions["vigie_platform_simulator"] = platforms.demo_state(compliance.today())
    return state


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
    return platforms.SimulatedPlatform(simulator(), connection.platform)


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
    """This document is left alone; the message says why (shown in the run's notes)."""


def _file(
    organisation: Organisation, kind: DocumentType, external: platforms.ExternalDocument, data: bytes, platform: str
) -> int:
    """File one external document as a valid version; returns how many versions it archived."""
    if uploads.detect_or_none(data) != "application/pdf":
        raise Skip(f"{external.external_id} : le fichier reçu n'est pas un PDF, il n'a pas été repris.")
    upload = documents.Upload(
        data, external.filename, external.issued_on, external.valid_until, external.verification_code
    )
    try:
        content_type, valid_until = documents.check(kind, upload, compliance.today())
    except documents.InvalidUpload as exc:
        raise Skip(f"{external.external_id} : {'; '.join(str(m) for m in exc.errors.values())}") from None
    stored = storage().save(data)
    try:
        document = documents.document_for(organisation.id, kind.id)
        result = documents.automatic_checks(organisation, kind, upload, content_type, valid_until)
        now = utcnow()
        newer = _key(external.certified_on, external.issued_on)
        archived = 0
        for previous in _current(organisation.id, kind.id):
            if _key(previous.certified_on, previous.issued_on) < newer:
                previous.status, previous.archived_at = "archived", now
                archived += 1
        version = DocumentVersion(
            document_id=document.id,
            organisation_id=organisation.id,
            status="valid",
            storage_key=stored.key,
            original_filename=external.filename or "document.pdf",
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            issued_on=external.issued_on,
            certified_on=external.certified_on,
            valid_until=valid_until,
            verification_code=(external.verification_code or "").strip().upper() or None,
            uploaded_at=now,
            reviewed_at=now,
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
    return archived


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
            .values(status="failed", finished_at=utcnow(), error_message=f"Erreur interne : {type(exc).__name__}")
        )
        db.session.commit()
        raise


def _sync(connection: PlatformConnection, organisation: Organisation, record_id: int) -> PlatformSyncRun:
    connection_id = connection.id
    counts = {"new": 0, "archived": 0, "unchanged": 0, "errors": 0}
    notes: list[str] = []
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
            notes.append(f"{external.external_id} : type de document inconnu ({external.type_code}).")
            continue
        if external.external_id in known:
            counts["unchanged"] += 1
            continue
        current = _current(organisation.id, kind.id)
        mine = max((_key(v.certified_on, v.issued_on) for v in current), default=None)
        if mine is not None and mine >= _key(external.certified_on, external.issued_on):
            counts["unchanged"] += 1
            notes.append(
                f"{kind.label_fr} : la version sur {label(connection.platform)} du {external.issued_on:%d/%m/%Y} "
                "n'est pas plus récente que celle de Vigie ; elle est laissée de côté."
            )
            continue
        try:
            data = client.fetch(external.external_id)
            counts["archived"] += _file(organisation, kind, external, data, connection.platform)
            counts["new"] += 1
        except platforms.PlatformDown as exc:
            failure = exc
            break
        except (platforms.PlatformError, Skip) as exc:
            counts["errors"] += 1
            notes.append(str(exc))
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
        record.error_message = _failure_text(connection.platform, failure)
    else:
        record.status = "partial" if counts["errors"] else "ok"
        connection.last_synced_at = record.finished_at
        connection.provided_types = sorted({e.type_code for e in listed if e.type_code in kinds})
    db.session.commit()
    return record


def _failure_text(platform: str, exc: Exception) -> str:
    if isinstance(exc, platforms.PlatformDown):
        return f"{label(platform)} ne répond pas ; la synchronisation reprendra au prochain passage. ({exc})"
    return f"{label(platform)} a envoyé une réponse inutilisable ; rien n'a été modifié. ({exc})"


def run_all() -> int:
    """Hourly: one job per enabled connection."""
    ids = db.session.scalars(select(PlatformConnection.id).where(PlatformConnection.enabled.is_(True))).all()
    for connection_id in ids:
        outbox.enqueue("sync_platform", queue="sync", connection_id=connection_id, trigger="periodic")
    db.session.commit()
    return len(ids)


# --- "Gérer mes organisations" -------------------------------------------------------------------


def connections_of(organisation_id: int) -> list[PlatformConnection]:
    return list(
        db.session.scalars(
            select(PlatformConnection)
            .where(PlatformConnection.organisation_id == organisation_id)
            .order_by(PlatformConnection.platform)
        )
    )


def runs_of(organisation_id: int, limit: int = 10) -> list[PlatformSyncRun]:
    return list(
        db.session.scalars(
            select(PlatformSyncRun)
            .where(PlatformSyncRun.organisation_id == organisation_id)
            .order_by(PlatformSyncRun.id.desc())
            .limit(limit)
        )
    )


def connection_for(tenancy: Tenancy, organisation_id: int, platform: str) -> PlatformConnection:
    """One of the user's companies' connections, or 404 whatever is typed."""
    if not any(m.organisation_id == organisation_id for m in tenancy.memberships):
        raise NotFound()
    connection = db.session.scalar(
        select(PlatformConnection).where(
            PlatformConnection.organisation_id == organisation_id, PlatformConnection.platform == platform
        )
    )
    if connection is None:
        raise NotFound()
    return connection


def require_owner(tenancy: Tenancy, organisation_id: int) -> None:
    role = next((m.role for m in tenancy.memberships if m.organisation_id == organisation_id), None)
    if role != "owner":
        raise Refused(_l("Seul un propriétaire de l'entreprise peut changer sa synchronisation."))


def _switch(tenancy: Tenancy, user: User, organisation_id: int, platform: str, enabled: bool) -> bool:
    """Turn the sync on or off (owners only); True when it changed (a double click changes nothing)."""
    connection = connection_for(tenancy, organisation_id, platform)
    require_owner(tenancy, organisation_id)
    changed = db.session.execute(
        update(PlatformConnection)
        .where(PlatformConnection.id == connection.id, PlatformConnection.enabled.is_(not enabled))
        .values(enabled=enabled, changed_by_id=user.id, changed_at=utcnow())
    ).rowcount
    if changed:
        action = "platform_sync.enabled" if enabled else "platform_sync.disabled"
        audit.record(action, user_id=user.id, organisation_id=organisation_id, platform=platform)
        if enabled:
            outbox.enqueue("sync_platform", queue="sync", connection_id=connection.id, trigger="reactivation")
    db.session.commit()
    return bool(changed)


def deactivate(tenancy: Tenancy, user: User, organisation_id: int, platform: str) -> bool:
    """Nothing fetched any more; no document removed."""
    return _switch(tenancy, user, organisation_id, platform, False)


def reactivate(tenancy: Tenancy, user: User, organisation_id: int, platform: str) -> bool:
    """Switch the sync back on and run it at once, for every establishment of the company."""
    return _switch(tenancy, user, organisation_id, platform, True)


def checks_of(organisation_id: int) -> dict[int, list[str]]:
    """The automatic pre-checks' warnings of the company's synced versions (shown beside them)."""
    return {
        version_id: (precheck or {}).get("warnings", [])
        for version_id, precheck in db.session.execute(
            select(DocumentVersion.id, DocumentVersion.precheck).where(
                DocumentVersion.organisation_id == organisation_id, DocumentVersion.source_platform.is_not(None)
            )
        )
    }


def provider_of(organisation_id: int, type_code: str) -> str | None:
    """The platform whose enabled sync provides this type of document to the company, if any."""
    for connection in connections_of(organisation_id):
        if connection.enabled and type_code in (connection.provided_types or []):
            return connection.platform
    return None


@dataclass(frozen=True)
class CompanyPage:
    organisation: Organisation
    role: str
    establishments: list
    connections: list[PlatformConnection]
    runs: list[PlatformSyncRun]

    @property
    def can_manage(self) -> bool:
        return self.role == "owner"


def my_organisations(tenancy: Tenancy) -> list[tuple[Membership, list[PlatformConnection]]]:
    """ "Gérer mes organisations": the user's companies with their platform connections (2 queries)."""
    ids = [m.organisation_id for m in tenancy.memberships]
    found: dict[int, list[PlatformConnection]] = {}
    for connection in db.session.scalars(
        select(PlatformConnection)
        .where(PlatformConnection.organisation_id.in_(ids))
        .order_by(PlatformConnection.platform)
    ):
        found.setdefault(connection.organisation_id, []).append(connection)
    return [(m, found.get(m.organisation_id, [])) for m in tenancy.memberships]


def company_page(tenancy: Tenancy, organisation_id: int) -> CompanyPage:
    membership = next((m for m in tenancy.memberships if m.organisation_id == organisation_id), None)
    if membership is None:
        raise NotFound()
    establishments = list(
        db.session.scalars(
            select(Establishment).where(Establishment.organisation_id == organisation_id).order_by(Establishment.siret)
        )
    )
    return CompanyPage(
        membership.organisation,
        membership.role,
        establishments,
        connections_of(organisation_id),
        runs_of(organisation_id),
    )


def connect(
    tenancy: Tenancy, user: User, organisation_id: int, *, platform: str, account_ref: str, api_key: str
) -> PlatformConnection:
    """Connect the company to its account on a platform, and run a first sync at once."""
    if not any(m.organisation_id == organisation_id for m in tenancy.memberships):
        raise NotFound()
    require_owner(tenancy, organisation_id)
    errors = {}
    if platform not in platforms.PLATFORMS:
        errors["platform"] = _l("Choisissez une plateforme de la liste.")
    elif db.session.scalar(
        select(PlatformConnection.id).where(
            PlatformConnection.organisation_id == organisation_id, PlatformConnection.platform == platform
        )
    ):
        errors["platform"] = _l("Cette entreprise est déjà connectée à cette plateforme.")
    if current_app.config["PLATFORM_BACKEND"] == "http" and not api_key.strip():
        errors["api_key"] = _l("Indiquez la clé d'API que la plateforme vous a donnée.")
    if errors:
        raise InvalidInput(errors)
    organisation = db.session.get(Organisation, organisation_id)
    connection = PlatformConnection(
        organisation_id=organisation_id,
        platform=platform,
        account_ref=account_ref.strip()[:100] or organisation.siren,
        credentials=seal({"api_key": api_key.strip()}),
        changed_by_id=user.id,
        changed_at=utcnow(),
    )
    db.session.add(connection)
    db.session.flush()
    audit.record("platform_sync.connected", user_id=user.id, organisation_id=organisation_id, platform=platform)
    outbox.enqueue("sync_platform", queue="sync", connection_id=connection.id, trigger="manual")
    db.session.commit()
    return connection


def run_now(tenancy: Tenancy, user: User, organisation_id: int, platform: str) -> None:
    """ "Synchroniser maintenant": queue a run of an enabled sync (any member may ask)."""
    connection = connection_for(tenancy, organisation_id, platform)
    if not connection.enabled:
        raise Refused(_l("La synchronisation est désactivée : réactivez-la d'abord."))
    outbox.enqueue("sync_platform", queue="sync", connection_id=connection.id, trigger="manual")
    audit.record("platform_sync.requested", user_id=user.id, organisation_id=organisation_id, platform=platform)
    db.session.commit()
