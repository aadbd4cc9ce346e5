"""A company's connections to other compliance platforms: connect, switch on and off, run now,
and what "Gérer mes organisations" shows. Runs themselves are queued (``sync_platform``), never made here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from portal.core import audit, outbox
from portal.core.exceptions import InvalidInput, Refused
from portal.core.extensions import db
from portal.core.labels import current_locale
from portal.core.secrets import seal
from portal.core.tenancy import Tenancy
from portal.integrations import compliance_platforms as platforms
from portal.models import (
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

ACCOUNT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def label(platform: str) -> str:
    return platforms.PLATFORMS.get(platform, platform)


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
        .values(
            enabled=enabled,
            changed_by_id=user.id,
            changed_at=utcnow(),
            requested_at=utcnow() if enabled else PlatformConnection.requested_at,
        )
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


# A run asked for or started longer ago than this without an end is no longer said "en cours":
# its job failed for good or its worker was killed (the next hourly run catches up).
STILL_RUNNING = timedelta(minutes=30)


@dataclass(frozen=True)
class CompanyPage:
    organisation: Organisation
    role: str
    establishments: list
    connections: list[PlatformConnection]
    runs: list[PlatformSyncRun]
    changers: dict[int, str] = field(default_factory=dict)  # who switched a sync on or off
    type_labels: dict[str, str] = field(default_factory=dict)  # document types, in the reader's language

    @property
    def can_manage(self) -> bool:
        return self.role == "owner"

    def running(self, connection: PlatformConnection) -> bool:
        """ "Synchronisation en cours": asked for and not started yet, or started and not ended."""
        now = utcnow()
        latest = next((r for r in self.runs if r.connection_id == connection.id), None)
        if latest is not None and self.running_run(latest):
            return True
        asked = connection.requested_at
        return bool(
            connection.enabled
            and asked is not None
            and now - asked < STILL_RUNNING
            and (latest is None or latest.started_at < asked)
        )

    def running_run(self, run: PlatformSyncRun) -> bool:
        """A run without an end that may still be going (else it was cut short: "interrompue")."""
        return run.finished_at is None and utcnow() - run.started_at < STILL_RUNNING

    @property
    def any_running(self) -> bool:
        return any(self.running(c) for c in self.connections)


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
    found = connections_of(organisation_id)
    changer_ids = {c.changed_by_id for c in found if c.changed_by_id}
    changers = (
        {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(changer_ids)))}
        if changer_ids
        else {}
    )
    language = current_locale()
    types = {t.code: t.label(language) for t in db.session.scalars(select(DocumentType))}
    return CompanyPage(
        membership.organisation,
        membership.role,
        establishments,
        found,
        runs_of(organisation_id),
        changers,
        types,
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
    if account_ref.strip() and not ACCOUNT_REF.fullmatch(account_ref.strip()):
        errors["account_ref"] = _l(
            "Cet identifiant de compte n'est pas valide : lettres, chiffres, tirets et points seulement (100 au plus)."
        )
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
        requested_at=utcnow(),
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
    connection.requested_at = utcnow()
    outbox.enqueue("sync_platform", queue="sync", connection_id=connection.id, trigger="manual")
    audit.record("platform_sync.requested", user_id=user.id, organisation_id=organisation_id, platform=platform)
    db.session.commit()
