"""Outgoing webhooks: endpoints on the settings page, signed deliveries to a real receiver, retries
with the same event id, the delivery log and "Renvoyer", switching off after three days of failures."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.core import clock, outbox
from portal.core.extensions import db
from portal.models import (
    DocumentVersion,
    Message,
    Organisation,
    OutboxJob,
    RefusalReason,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.api.support import CONSTRUCTOR, MARTIN, accept_all_requests_to
from tests.support.data import drain
from tests.support.documents import pdf, upload
from tests.support.http import form_values, post
from tests.support.services import free_port


class Receiver:
    """A local HTTP server that records each request and answers the statuses it is given, in turn."""

    def __init__(self, statuses=(200,)):
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver error")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/vigie"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def start(statuses=(200,)):
        made.append(Receiver(statuses))
        return made[-1]

    yield start
    for server in made:
        server.close()


def _register(client, auth, email: str, url: str, events: list[str]) -> str:
    """Register an endpoint through the page, as its owner would; its signing secret (shown once)."""
    auth.login(email)
    values = form_values(client.get("/settings/api/webhooks").data, "webhook-form")
    answer = client.post("/settings/api/webhooks", data={**values, "url": url, "events": events})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    page = client.get("/settings/api/webhooks").get_data(as_text=True)
    secret = page.split('<code id="new-webhook-secret">')[1].split("</code>")[0]
    assert secret not in client.get("/settings/api/webhooks").get_data(as_text=True)
    auth.logout()
    return secret


def _checks(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does: the README's own snippet, run as written (so it stays true)."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("def is_from_vigie(")
    snippet = readme[readme.rindex("```python", 0, start) + len("```python") : readme.index("```", start)]
    namespace: dict = {}
    exec(textwrap.dedent(snippet), namespace)  # noqa: S102 - the documentation's code, on purpose
    return namespace["is_from_vigie"](secret, headers["Vigie-Signature"], body)


def _run_due(app, rounds: int = 40) -> None:
    """What the sweeper and the workers do: push the rows that are due, run them, until none is left."""
    for _ in range(rounds):
        with app.app_context():
            outbox.sweep(everything=True)
        drain(app)
        with app.app_context():
            waiting = db.session.scalar(
                select(db.func.count()).select_from(OutboxJob).where(OutboxJob.status == "pending")
            )
        if not waiting:
            return
        time.sleep(0.05)


def _validate_latest(client, auth) -> int:
    with client.application.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id).order_by(DocumentVersion.id.desc()))
    auth.login("operateur@vigie.test")
    assert post(client, f"/operations/review/{version_id}/validate").status_code == 303
    auth.logout()
    return version_id


def test_an_owner_registers_an_https_endpoint_and_bad_ones_are_refused_next_to_their_field(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    values = form_values(client.get("/settings/api/webhooks").data, "webhook-form")
    for url, message in (
        ("http://erp.example.fr/hook", "L&#39;adresse doit commencer par https://"),
        ("ftp://127.0.0.1/x", "L&#39;adresse doit commencer par https://"),
        ("https://user:pw@erp.example.fr/hook", "Indiquez une adresse complète"),
        ("pas une adresse", "Indiquez une adresse complète"),
        ("https://erp.example.fr:99999/hook", "Indiquez une adresse complète"),
    ):
        answer = client.post("/settings/api/webhooks", data={**values, "url": url, "events": ["document.validated"]})
        assert answer.status_code == 422 and message in answer.get_data(as_text=True), url
    answer = client.post("/settings/api/webhooks", data={**values, "url": "https://erp.example.fr/hook"})
    assert answer.status_code == 422 and "Choisissez au moins un événement." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint)) is None
    answer = client.post(
        "/settings/api/webhooks",
        data={**values, "url": "https://erp.example.fr/hook", "events": ["document.validated"]},
    )
    assert answer.status_code == 303
    page = client.get("/settings/api/webhooks").get_data(as_text=True)
    assert "whsec_" in page and "https://erp.example.fr/hook" in page and "Un document est validé" in page
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert "whsec_" not in endpoint.secret_sealed  # kept encrypted
    auth.logout()
    auth.login("fournisseur@vigie.test")  # another company: neither its log nor its switch
    assert client.get(f"/settings/api/webhooks/{endpoint.id}").status_code == 404
    assert post(client, f"/settings/api/webhooks/{endpoint.id}/off").status_code == 404
    auth.logout()
    auth.login("collaboratrice@vigie.test")  # not an owner
    assert client.get("/settings/api/webhooks").status_code == 403


def test_a_real_receiver_gets_a_signed_delivery_and_the_same_event_id_on_each_retry(make_app, auth_for, receiver):
    app, client, auth = auth_for(WEBHOOK_BACKOFF_SCALE=0.001)
    server = receiver((500, 500, 200))
    secret = _register(client, auth, "fournisseur@vigie.test", server.url, ["document.validated"])
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", pdf("URSSAF_VIGILANCE"), verification_code="ABCDEFGH12345XY")
    auth.logout()
    drain(app)
    version_id = _validate_latest(client, auth)
    _run_due(app)
    assert len(server.received) == 3
    ids = {json.loads(body)["id"] for _headers, body in server.received}
    assert len(ids) == 1 and {h["Vigie-Event-Id"] for h, _ in server.received} == ids
    headers, body = server.received[-1]
    assert _checks(secret, headers, body) and not _checks("whsec_wrong", headers, body)
    event = json.loads(body)
    assert event["type"] == "document.validated" and event["data"]["supplier"]["siren"] == MARTIN
    assert event["data"]["document"] == {
        **event["data"]["document"],
        "type": "URSSAF_VIGILANCE",
        "document_id": version_id,
    }
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.status == "delivered" and delivery.attempts == 3
    auth.login("fournisseur@vigie.test")
    log = client.get(f"/settings/api/webhooks/{delivery.endpoint_id}").get_data(as_text=True)
    assert "Reçu" in log and "3 essais" in log and "HTTP 200" in log and delivery.event_id in log


def test_renvoyer_sends_the_same_event_again_once(make_app, auth_for, receiver):
    app, client, auth = auth_for(WEBHOOK_RETRY_HOURS=0)  # no automatic retry: the first failure is final
    server = receiver((503, 200))
    _register(client, auth, "fournisseur@vigie.test", server.url, ["document.validated"])
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", pdf("URSSAF_VIGILANCE"), verification_code="ABCDEFGH12345XY")
    auth.logout()
    drain(app)
    _validate_latest(client, auth)
    _run_due(app)
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.status == "failed" and delivery.last_status_code == 503
    auth.login("fournisseur@vigie.test")
    assert "HTTP 503" in client.get(f"/settings/api/webhooks/{delivery.endpoint_id}").get_data(as_text=True)
    assert post(client, f"/settings/api/webhooks/deliveries/{delivery.id}/resend").status_code == 303
    _run_due(app)
    assert len(server.received) == 2 and server.received[0][1] == server.received[1][1]  # same event, same body
    with app.app_context():
        assert db.session.get(WebhookDelivery, delivery.id).status == "delivered"
    auth.logout()
    auth.login("constructor@vigie.test")
    assert post(client, f"/settings/api/webhooks/deliveries/{delivery.id}/resend").status_code == 404


@pytest.fixture
def auth_for(make_app):
    """An app with some settings, the demo world, a client and its AuthActions."""
    from tests.support.data import seed_world
    from tests.support.http import AuthActions

    def build(**settings):
        app = make_app(**settings)
        seed_world(app, with_documents=True)
        client = app.test_client()
        return app, client, AuthActions(client)

    return build


def test_with_the_receiver_down_the_endpoint_is_switched_off_after_three_days_and_its_owner_emailed(
    app, client, auth, demo_file, monkeypatch
):
    from portal.messaging import webhooks

    dead = f"http://127.0.0.1:{free_port()}/down"  # nothing listens there
    _register(client, auth, "constructor@vigie.test", dead, ["partnership.accepted", "supplier.status_changed"])
    start = clock.now()
    with app.app_context():
        constructor = db.session.scalar(select(Organisation).where(Organisation.siren == CONSTRUCTOR))
        endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
    for hours in (0, 1, 25, 26, 49, 50, 73):
        monkeypatch.setattr(clock, "now", lambda moment=start + timedelta(hours=hours): moment)
        with app.test_request_context():
            if hours in (0, 25, 49, 73):  # an event a day
                webhooks.emit("partnership.accepted", {constructor.id: {"n": hours}})
                db.session.commit()
            for delivery_id in db.session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")
            ).all():
                webhooks.deliver(delivery_id)
        with app.app_context():
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            assert endpoint.active is (hours < 73), hours
    with app.app_context():
        assert endpoint.disabled_reason == "failing"
        statuses = db.session.scalars(select(WebhookDelivery.status)).all()
        assert set(statuses) == {"failed"} and len(statuses) == 4
        first = db.session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id))
        assert first.attempts == 3  # tried at 0 h, 1 h, then given up at 25 h (24 h window)
        mail = db.session.scalar(
            select(Message).where(Message.recipient == "constructor@vigie.test", Message.template == "webhook_disabled")
        )
        assert mail is not None and dead in mail.body_text and "3 jours" in mail.body_text
        with app.test_request_context():
            assert webhooks.emit("partnership.accepted", {constructor.id: {}}) == 0  # nothing for an endpoint off
    auth.login("constructor@vigie.test")
    assert "en échec depuis trop longtemps" in client.get(f"/settings/api/webhooks/{endpoint_id}").get_data(
        as_text=True
    )
    assert post(client, f"/settings/api/webhooks/{endpoint_id}/on").status_code == 303
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).active is True


def test_each_event_reaches_the_endpoints_that_asked_with_what_their_pages_show(app, client, auth, demo_file, receiver):
    server = receiver()
    events = ["partnership.accepted", "supplier.status_changed", "document.refused", "document.validated"]
    _register(client, auth, "constructor@vigie.test", server.url, events)
    _register(client, auth, "fournisseur@vigie.test", server.url, ["partnership.accepted", "document.refused"])
    accept_all_requests_to(app, MARTIN)
    drain(app)
    accepted = [json.loads(b) for _h, b in server.received if json.loads(b)["type"] == "partnership.accepted"]
    assert len(accepted) == 2 and accepted[0]["id"] == accepted[1]["id"]  # both sides, one event
    assert accepted[0]["data"]["client"]["siren"] == CONSTRUCTOR and accepted[0]["data"]["supplier"]["siren"] == MARTIN
    server.received.clear()
    # Martin sends a new RC Pro, which the operator refuses: Martin's endpoint gets the reason, Constructor's not.
    auth.login("fournisseur@vigie.test")
    upload(client, "RC_PRO", pdf("RC_PRO"), valid_until=(clock.today() + timedelta(days=200)).isoformat())
    auth.logout()
    drain(app)
    with app.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id).order_by(DocumentVersion.id.desc()))
        reason_id = db.session.scalar(select(RefusalReason.id).where(RefusalReason.active.is_(True)))
    auth.login("operateur@vigie.test")
    post(client, f"/operations/review/{version_id}/refuse", {"reason": str(reason_id), "comment": ""})
    auth.logout()
    drain(app)
    refused = {
        json.loads(b)["data"]["document"].get("refusal_reason") is not None: json.loads(b) for _h, b in server.received
    }
    assert set(refused) == {True, False}
    assert (
        "document_id" not in refused[False]["data"]["document"]
        and refused[True]["data"]["document"]["document_id"] == version_id
    )
    assert not [b for _h, b in server.received if json.loads(b)["type"] == "document.validated"]


def test_a_change_rolled_back_sends_nothing(app, client, auth, demo_file, receiver):
    from portal.messaging import webhooks

    server = receiver()
    _register(client, auth, "constructor@vigie.test", server.url, ["partnership.accepted"])
    with app.test_request_context():
        constructor = db.session.scalar(select(Organisation.id).where(Organisation.siren == CONSTRUCTOR))
        assert webhooks.emit("partnership.accepted", {constructor: {}}) == 1
        db.session.rollback()
    drain(app)
    with app.app_context():
        assert db.session.scalar(select(WebhookDelivery)) is None
    assert server.received == []


def test_expiring_and_expired_documents_are_told_once_each(app, client, auth, demo_file, receiver, monkeypatch):
    from portal.documents import expiry

    server = receiver()
    _register(client, auth, "fournisseur@vigie.test", server.url, ["document.expiring", "document.expired"])
    with app.app_context():
        version = db.session.scalar(
            select(DocumentVersion)
            .join(Organisation, Organisation.id == DocumentVersion.organisation_id)
            .where(
                Organisation.siren == MARTIN,
                DocumentVersion.status == "valid",
                DocumentVersion.valid_until.is_not(None),
            )
            .order_by(DocumentVersion.valid_until)
        )
        until, version_id = version.valid_until, version.id
    for days_before in (30, 29, 7, 7, -1, -2):
        day = until - timedelta(days=days_before)
        moment = datetime.combine(day, datetime.min.time(), tzinfo=clock.PARIS) + timedelta(hours=6)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        with app.test_request_context():
            expiry.sweep(day)
        drain(app)
    told = [
        json.loads(b) for _h, b in server.received if json.loads(b)["data"]["document"]["document_id"] == version_id
    ]
    assert [(e["type"], e["data"]["document"].get("days_left")) for e in told] == [
        ("document.expiring", 30),
        ("document.expiring", 7),
        ("document.expired", None),
    ]


def test_endpoints_are_managed_through_the_api_too_and_never_across_companies(app, client, demo):
    from tests.api.support import bearer, make_key

    constructor, martin = make_key(app, CONSTRUCTOR), make_key(app, MARTIN)
    body = {"url": "https://erp.example.fr/vigie", "events": ["document.validated", "partnership.ended"]}
    created = client.post("/api/v1/webhooks", json=body, headers=bearer(constructor))
    assert created.status_code == 201
    found = created.get_json()
    assert found["secret"].startswith("whsec_") and found["events"] == body["events"] and found["active"] is True
    listed = client.get("/api/v1/webhooks", headers=bearer(constructor)).get_json()["data"]
    assert [w["id"] for w in listed] == [found["id"]] and "secret" not in listed[0]
    assert client.get("/api/v1/webhooks", headers=bearer(martin)).get_json()["data"] == []
    assert client.delete(f"/api/v1/webhooks/{found['id']}", headers=bearer(martin)).status_code == 404
    bad = client.post("/api/v1/webhooks", json={**body, "url": "http://erp.example.fr"}, headers=bearer(constructor))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "url"
    unknown = client.post("/api/v1/webhooks", json={**body, "events": ["nope"]}, headers=bearer(constructor))
    assert unknown.status_code == 422
    assert client.delete(f"/api/v1/webhooks/{found['id']}", headers=bearer(constructor)).status_code == 204
    with app.app_context():
        assert db.session.get(WebhookEndpoint, found["id"]).active is False
    reader = make_key(app, CONSTRUCTOR, ["suppliers:read"])
    assert client.get("/api/v1/webhooks", headers=bearer(reader)).status_code == 403
