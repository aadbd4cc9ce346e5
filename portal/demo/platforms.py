"""Menuiserie Martin synced with the simulated Attestation Légale; Demolitor's Actradis sync off.

The simulated platforms get their documents here (``demo_state``), saved in the instance folder
so the web process and the workers all see them."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.core.secrets import seal
from portal.demo import samples
from portal.integrations.platform_simulator import SimulatorState
from portal.models import Organisation, PlatformConnection, User, utcnow
from portal.platforms import sync


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
    sync.install_simulator(demo_state(clock.today()))
    db.session.add_all([synced, switched_off])
    db.session.commit()
    # The first sync: the newer URSSAF attestation replaces Vigie's (archived), the older Kbis is left.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        sync.run(synced.id, "periodic")


def demo_state(today: date) -> SimulatorState:
    """The demo world's platforms: Menuiserie Martin's account at Attestation Légale holds a newer
    URSSAF attestation than Vigie's and an older Kbis; Demolitor's at Actradis an URSSAF one."""
    state = SimulatorState()
    martin, demolitor = ("812345676", "Menuiserie Martin"), ("830124590", "Demolitor SAS")
    entries = (
        ("attestation_legale", martin, "AL-URSSAF-2026-118", "URSSAF_VIGILANCE", today - timedelta(days=12)),
        ("attestation_legale", martin, "AL-KBIS-2026-031", "KBIS", today - timedelta(days=150)),
        ("actradis", demolitor, "ACT-URSSAF-77", "URSSAF_VIGILANCE", today - timedelta(days=20)),
    )
    for platform, (siren, name), external_id, code, issued in entries:
        # Letters and digits only, as printed on a real attestation ("ACT-URSSAF-77" → "F77VIGIE0124").
        verification = "".join(filter(str.isalnum, external_id))[-3:] + f"VIGIE{siren[-4:]}"
        data = samples.one(code, siren, name, issued, code=verification if code == "URSSAF_VIGILANCE" else None)
        state.add(
            platform,
            siren,
            {
                "id": external_id,
                "type": code,
                "issued_on": issued.isoformat(),
                "certified_on": issued.isoformat(),
                "valid_until": (issued + timedelta(days=180)).isoformat() if code == "URSSAF_VIGILANCE" else None,
                "filename": f"{code.lower()}-{issued:%Y-%m-%d}.pdf",
                "verification_code": verification if code == "URSSAF_VIGILANCE" else None,
            },
            data,
        )
    return state
