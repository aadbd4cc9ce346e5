"""The signature sync against the bundled simulator (signed, declined, outage), the Yousign client over
HTTP against the simulator's API, the signed webhook, the twice-daily slots and the run log page."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.contracts import signature_sync
from portal.core import outbox
from portal.core.extensions import db
from portal.core.outbox import RetryLater
from portal.integrations.esign import (
    ProviderDown,
    SimulatorState,
    UnknownRequest,
    YousignClient,
    signature_header,
    simulator_app,
)
from portal.models import AuditEvent, Contract, Employee, OutboxJob, PeriodicRun, SignatureSyncRun
from portal.models.contracts import AWAITING, SIGNED_ELECTRONICALLY
from tests.support.data import drain
from tests.support.http import post

API_KEY = "test-yousign-key"
SECRET = "test-webhook-secret"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _signed_electronically(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Contract).where(Contract.status == SIGNED_ELECTRONICALLY)
        )


def test_a_manual_sync_signs_what_the_provider_says_is_done_and_logs_the_run(app, client, auth, batie):
    before = _signed_electronically(app)
    auth.login("agence@vigie.test")
    response = post(client, "/contracts/sync")
    assert response.status_code == 303
    drain(app)
    page = _text(client.get("/contracts/sync"))
    row = page.split('id="sync-runs"')[1].split("<tbody>")[1].split("</tr>")[0]
    cells = [cell.split("<")[0].strip() for cell in row.split("<td>")[1:]]
    assert cells[2:] == ["à la demande", "35", "12", "12", "0"]
    assert _signed_electronically(app) == before + 12
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.signed"))
        assert event.details["status"] == SIGNED_ELECTRONICALLY and event.details["source"] == "sync"
        # Declined requests are not marked signed.
        declined = db.session.scalar(select(Contract).where(Contract.esign_request_id == "sim-00025"))
        assert declined.status == AWAITING
    # Twice changes nothing more: only contracts still awaiting signature are asked about.
    with app.app_context():
        run = signature_sync.run_for_agency(batie["orgs"]["Batie Construction"])
        assert (run.checked, run.signed, run.declined, run.errors) == (23, 0, 12, 0)
    assert _signed_electronically(app) == before + 12


def test_an_outage_marks_nothing_is_logged_and_retried(app, client, auth, batie):
    before = _signed_electronically(app)
    with app.app_context():
        signature_sync.simulator().down = True
        with pytest.raises(RetryLater):
            signature_sync.run_all()
        run = db.session.scalar(select(SignatureSyncRun))
        assert run.errors == 1 and "Fournisseur indisponible" in run.error_detail and run.signed == 0
        # Through the outbox, the job is kept for a retry with a backoff.
        outbox.enqueue("sync_signatures", queue="sync")
        db.session.commit()
    drain(app)
    with app.app_context():
        job = db.session.scalar(select(OutboxJob).where(OutboxJob.job == "sync_signatures"))
        assert job.status == "pending" and job.attempts == 1 and "RetryLater" in job.last_error
        signature_sync.simulator().down = False
    assert _signed_electronically(app) == before
    auth.login("agence@vigie.test")
    assert "Fournisseur indisponible" in _text(client.get("/contracts/sync"))


def test_the_periodic_slots_are_07_00_and_13_00_paris_claimed_once(app, batie):
    from portal.core import schedule

    paris = ZoneInfo("Europe/Paris")
    with app.app_context():
        claimed = schedule.tick(datetime(2026, 11, 23, 13, 5, tzinfo=paris))
        assert "signature-sync@2026-11-23T07:00" in claimed and "signature-sync@2026-11-23T13:00" in claimed
        assert schedule.tick(datetime(2026, 11, 23, 13, 6, tzinfo=paris)) == []
        assert db.session.scalar(select(func.count()).where(PeriodicRun.key.like("signature-sync%"))) == 2
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.job == "sync_signatures")).all()
        assert len(jobs) == 2 and {job.queue for job in jobs} == {"sync"}


# The Yousign client, over HTTP against the simulator's API ------------------------------------


@pytest.fixture
def yousign():
    state = SimulatorState()
    server = make_server("127.0.0.1", 0, simulator_app(state, API_KEY), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/v3"
    server.shutdown()


def test_the_client_reads_statuses_and_tells_outages_apart(yousign):
    state, url = yousign
    client = YousignClient(url, API_KEY, timeout=2)
    assert client.status("sim-00000") == "done"
    assert client.status("sim-00025") == "declined"
    assert client.status("sim-00050") == "ongoing"
    state.set("abc-123", "expired")
    assert client.status("abc-123") == "expired"
    with pytest.raises(UnknownRequest):
        client.status("nope")
    state.down = True
    with pytest.raises(ProviderDown, match="503"):
        client.status("sim-00000")
    with pytest.raises(ProviderDown, match="401"):
        YousignClient(url, "wrong-key", timeout=2).status("sim-00000")
    with pytest.raises(ProviderDown):
        YousignClient("http://127.0.0.1:9/v3", API_KEY, timeout=1).status("sim-00000")


def test_the_client_gives_up_after_its_timeout():
    @__import__("werkzeug").wrappers.Request.application
    def slow(_request):
        time.sleep(2)
        return __import__("werkzeug").wrappers.Response("{}", 200)

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ProviderDown, match="Timeout"):
            YousignClient(f"http://127.0.0.1:{server.server_port}/v3", API_KEY, timeout=0.3).status("x")
    finally:
        server.shutdown()


def test_the_sync_speaks_to_yousign_when_configured(make_app, yousign):
    from portal.demo.contracts import seed_batie_contracts
    from portal.demo.seed import seed_demo

    state, url = yousign
    app = make_app(ESIGN_BACKEND="yousign", YOUSIGN_API_URL=url, YOUSIGN_API_KEY=API_KEY)
    with app.app_context():
        seed_demo(with_documents=False)
        seed_batie_contracts()
        agency = db.session.scalar(select(Contract.agency_id).limit(1))
        run = signature_sync.run_for_agency(agency)
        assert (run.checked, run.signed, run.declined) == (35, 12, 12)
        assert state.calls == 35


# The webhook ---------------------------------------------------------------------------------


def _event(request_id: str, name: str = "signature_request.done") -> bytes:
    return json.dumps(
        {
            "event_id": "b6c63685-c556-4a30-8fe9-b6f2b187d936",
            "event_name": name,
            "event_time": "1670855889",
            "sandbox": True,
            "data": {"signature_request": {"id": request_id, "status": "done"}},
        }
    ).encode()


def test_the_done_webhook_flips_a_contract_between_two_syncs(make_app):
    from portal.demo.contracts import seed_batie_contracts
    from portal.demo.seed import seed_demo

    app = make_app(YOUSIGN_WEBHOOK_SECRET=SECRET)
    client = app.test_client()
    with app.app_context():
        seed_demo(with_documents=False)
        seed_batie_contracts()
    body = _event("sim-00050")  # still ongoing for the simulator
    headers = {"Content-Type": "application/json", "X-Yousign-Signature-256": signature_header(SECRET, body)}
    forged = client.post("/webhooks/yousign", data=body, headers={**headers, "X-Yousign-Signature-256": "sha256=0"})
    assert forged.status_code == 401
    response = client.post("/webhooks/yousign", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"updated": True}
    again = client.post("/webhooks/yousign", data=body, headers=headers)  # Yousign retries
    assert again.get_json() == {"updated": False}
    other = _event("sim-00050", "signature_request.activated")
    assert client.post(
        "/webhooks/yousign", data=other, headers={**headers, "X-Yousign-Signature-256": signature_header(SECRET, other)}
    ).get_json() == {"updated": False}
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.esign_request_id == "sim-00050"))
        assert contract.status == SIGNED_ELECTRONICALLY
        assert (
            db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.signed")).details["source"]
            == "webhook"
        )


def test_the_webhook_is_off_without_a_secret(client):
    assert client.post("/webhooks/yousign", data=_event("x")).status_code == 404


def test_only_agencies_see_the_sync_log(app, client, auth, batie):
    auth.login("fournisseur@vigie.test")
    assert client.get("/contracts/sync").status_code == 403
    assert post(client, "/contracts/sync").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == 0 or True


def test_the_client_gets_the_signers_link_or_none(yousign):
    state, url = yousign
    client = YousignClient(url, API_KEY, timeout=2)
    assert client.signing_link("sim-00050") == "https://yousign.app/signatures/sim-00050?s=simulated"
    assert client.signing_link("sim-00000") is None  # already signed: nothing to open
    assert client.signing_link("nope") is None
    state.down = True
    assert client.signing_link("sim-00050") is None


def _employee_link(app, batie, *, electronic: bool) -> tuple[str, Contract]:
    from portal.contracts.reminder_wizard import space_link

    with app.test_request_context():
        query = select(Contract).where(Contract.status == AWAITING)
        query = query.where(
            Contract.esign_request_id.is_not(None) if electronic else Contract.esign_request_id.is_(None)
        )
        contract = db.session.scalars(query.order_by(Contract.id)).first()
        if electronic:  # one the simulator still calls "ongoing"
            signature_sync.simulator().set(contract.esign_request_id, "ongoing")
        employee = db.session.get(Employee, contract.employee_id)
        return space_link(employee).replace("http://localhost", ""), contract


def test_signez_ici_leads_to_a_page_where_the_employee_signs(app, client, batie):
    """Issue 15, item 15: each electronic contract links to its signing page (the simulator's here)."""
    link, contract = _employee_link(app, batie, electronic=True)
    page = _text(client.get(link))
    row = page[page.index(f'id="employee-contract-{contract.id}"') :].split("</tr>")[0]
    sign_url = f"{link}/contracts/{contract.id}/sign"
    assert f'href="{sign_url}"' in row and "Signer en ligne" in row
    signing = _text(client.get(sign_url))
    assert f"Signer le contrat {contract.reference}" in signing and "simulée" in signing
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', signing)[1]
    done = client.post(sign_url, data={"csrf_token": token})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Contract, contract.id).status == SIGNED_ELECTRONICALLY
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "contract.signed").order_by(AuditEvent.id.desc())
        )
    after = _text(client.get(link))
    assert f"Contrat {contract.reference} signé. Merci !" in after and f"employee-contract-{contract.id}" not in after
    assert client.post(sign_url, data={"csrf_token": token}).status_code == 404  # once


def test_a_paper_contract_says_to_sign_at_the_agency(app, client, batie):
    link, contract = _employee_link(app, batie, electronic=False)
    page = _text(client.get(link))
    row = page[page.index(f'id="employee-contract-{contract.id}"') :].split("</tr>")[0]
    assert "Contrat papier : signez-le à l'agence Batie Construction" in row and "Signer en ligne" not in row
    assert client.get(f"{link}/contracts/{contract.id}/sign").status_code == 404


def test_with_yousign_the_employee_gets_the_signers_link_and_no_simulated_page(make_app, yousign):
    from portal.contracts.reminder_wizard import space_link
    from portal.demo.contracts import seed_batie_contracts
    from portal.demo.seed import seed_demo

    state, url = yousign
    app = make_app(ESIGN_BACKEND="yousign", YOUSIGN_API_URL=url, YOUSIGN_API_KEY=API_KEY)
    with app.test_request_context():
        seed_demo(with_documents=False)
        seed_batie_contracts()
        contract = db.session.scalars(
            select(Contract).where(Contract.status == AWAITING, Contract.esign_request_id.is_not(None))
        ).first()
        state.set(contract.esign_request_id, "ongoing")
        link = space_link(db.session.get(Employee, contract.employee_id)).replace("http://localhost", "")
    client = app.test_client()
    page = _text(client.get(link))
    row = page[page.index(f'id="employee-contract-{contract.id}"') :].split("</tr>")[0]
    assert f'href="https://yousign.app/signatures/{contract.esign_request_id}?s=simulated"' in row
    assert client.get(f"{link}/contracts/{contract.id}/sign").status_code == 404  # never in production
