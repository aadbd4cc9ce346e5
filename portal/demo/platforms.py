"""Menuiserie Martin synced with the simulated Attestation Légale; Demolitor's Actradis sync off."""

from __future__ import annotations

from sqlalchemy import select

from portal.core.extensions import db
from portal.core.secrets import seal
from portal.models import Organisation, PlatformConnection, User, utcnow
from portal.platforms import sync as platform_sync


def seed_platform_connections() -> None:
    martin = db.session.scalar(select(Organisation).where(Organisation.siren == "812345676"))
    demolitor = db.session.scalar(select(Organisation).where(Organisation.siren == "830124590"))
    if martin is None or db.session.scalar(select(PlatformConnection.id).limit(1)):
        return
    owner = db.session.scalar(select(User.id).where(User.email == "constructor@vigie.test"))
    synced = PlatformConnection(
        organisation_id=martin.id,
        platform="attestation_legale",
        account_ref=martin.siren,
        credentials=seal({"api_key": "demo-attestation-legale"}),
    )
    switched_off = PlatformConnection(
        organisation_id=demolitor.id,
        platform="actradis",
        account_ref=demolitor.siren,
        credentials=seal({"api_key": "demo-actradis"}),
        enabled=False,
        changed_by_id=owner,
        changed_at=utcnow(),
    )
    db.session.add_all([synced, switched_off])
    db.session.commit()
    # The first sync: the newer URSSAF attestation replaces Vigie's (archived), the older Kbis is left.
    from flask import current_app

    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        platform_sync.run(synced.id, "periodic")
