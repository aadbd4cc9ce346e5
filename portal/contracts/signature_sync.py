"""The signature sync: twice a day (and on demand), ask the e-signature provider about every contract
still awaiting signature and mark "signed electronically" those it says are done.

Idempotent (only contracts still awaiting signature are asked about, and marking is a conditional
UPDATE); a provider outage marks nothing, is logged on the run, and the job is retried with a
backoff by the outbox. Yousign's ``signature_request.done`` webhook flips a contract between runs.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from portal.contracts import manage
from portal.core import audit, outbox
from portal.core.extensions import db
from portal.core.outbox import RetryLater
from portal.core.tenancy import Tenancy
from portal.integrations.esign import (
    FINAL_STATUSES,
    ProviderDown,
    SimulatedYousign,
    SimulatorState,
    UnknownRequest,
    YousignClient,
)
from portal.models import Contract, SignatureSyncRun, User, utcnow
from portal.models.contracts import AWAITING, SIGNED_ELECTRONICALLY


def simulator() -> SimulatorState:
    return current_app.extensions.setdefault("vigie_esign_simulator", SimulatorState())


def provider():
    config = current_app.config
    if config["ESIGN_BACKEND"] == "yousign":
        return YousignClient(
            config["YOUSIGN_API_URL"], config["YOUSIGN_API_KEY"] or "", timeout=config["ESIGN_TIMEOUT"]
        )
    return SimulatedYousign(simulator())


def mark_signed_electronically(contract_id: int, *, source: str) -> bool:
    """Awaiting → signed electronically, once (the caller commits); False if it was not awaiting."""
    changed = db.session.execute(
        update(Contract)
        .where(Contract.id == contract_id, Contract.status == AWAITING)
        .values(status=SIGNED_ELECTRONICALLY, signed_at=utcnow(), marked_by_id=None)
    ).rowcount
    if changed:
        agency_id = db.session.scalar(select(Contract.agency_id).where(Contract.id == contract_id))
        audit.record(
            "contract.signed",
            organisation_id=agency_id,
            contract_id=contract_id,
            status=SIGNED_ELECTRONICALLY,
            source=source,
        )
    return bool(changed)


def run_for_agency(agency_id: int, trigger: str = "schedule") -> SignatureSyncRun:
    return _sync(agency_id, trigger)[0]


def _sync(agency_id: int, trigger: str) -> tuple[SignatureSyncRun, bool]:
    """One logged run; also says whether the provider was down (the run stopped early)."""
    run = SignatureSyncRun(agency_id=agency_id, trigger=trigger)
    db.session.add(run)
    db.session.commit()
    pending = db.session.execute(
        select(Contract.id, Contract.esign_request_id)
        .where(Contract.agency_id == agency_id, Contract.status == AWAITING, Contract.esign_request_id.is_not(None))
        .order_by(Contract.id)
    ).all()
    client, problems, down = provider(), [], False
    for contract_id, request_id in pending:
        try:
            status = client.status(request_id)
        except UnknownRequest:
            run.errors += 1
            problems.append(f"{request_id} : inconnu du fournisseur")
            continue
        except ProviderDown as exc:
            run.errors, down = run.errors + 1, True
            problems.append(f"Fournisseur indisponible ({exc}) : synchronisation interrompue, elle sera relancée.")
            break
        run.checked += 1
        if status == "done":
            run.signed += int(mark_signed_electronically(contract_id, source="sync"))
        elif status in FINAL_STATUSES:
            run.declined += 1
    run.finished_at = utcnow()
    run.error_detail = "\n".join(problems[:20]) or None
    db.session.commit()
    return run, down


def agencies_to_sync() -> list[int]:
    return list(
        db.session.scalars(
            select(Contract.agency_id)
            .where(Contract.status == AWAITING, Contract.esign_request_id.is_not(None))
            .distinct()
        )
    )


def run_all() -> list[SignatureSyncRun]:
    """The periodic job: every agency; raises RetryLater after a provider outage (nothing lost)."""
    outcomes = [_sync(agency_id, "schedule") for agency_id in agencies_to_sync()]
    if any(down for _run, down in outcomes):
        raise RetryLater("e-signature provider unavailable")
    return [run for run, _down in outcomes]


def request_now(tenancy: Tenancy, user: User) -> None:
    """ "Synchroniser maintenant": one run for this agency, through the outbox."""
    manage.require_agency(tenancy)
    outbox.enqueue("sync_agency_signatures", queue="sync", agency_id=tenancy.organisation.id)
    audit.record("signature_sync.requested", user_id=user.id, organisation_id=tenancy.organisation.id)
    db.session.commit()


def runs_of(tenancy: Tenancy, limit: int = 50) -> list[SignatureSyncRun]:
    manage.require_agency(tenancy)
    return list(
        db.session.scalars(
            select(SignatureSyncRun)
            .where(SignatureSyncRun.agency_id == tenancy.organisation.id)
            .order_by(SignatureSyncRun.id.desc())
            .limit(limit)
        )
    )


def on_webhook(payload: dict) -> bool:
    """Yousign's ``signature_request.done``: flip the contract now; other events are ignored."""
    if payload.get("event_name") != "signature_request.done":
        return False
    request_id = str(((payload.get("data") or {}).get("signature_request") or {}).get("id") or "")
    contract_id = (
        db.session.scalar(select(Contract.id).where(Contract.esign_request_id == request_id)) if request_id else None
    )
    if contract_id is None:
        return False
    changed = mark_signed_electronically(contract_id, source="webhook")
    db.session.commit()
    return changed
