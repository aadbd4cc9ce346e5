"""Email over SMTP, SMS over Brevo's API, delivery reports, and what operators see."""

from __future__ import annotations

import email
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import Message, OutboxJob, utcnow
from tests.fakes.brevo import API_KEY, FakeBrevo
from tests.support.data import count_queries, drain
from tests.support.http import login, post, token_for
from tests.support.services import free_port


class Inbox:
    def __init__(self, refuse: set[str] | None = None):
        self.messages: list[email.message.Message] = []
        self.refuse = refuse or set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 Mailbox does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox(refuse={"ghost@vigie.test"})
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def brevo():
    with FakeBrevo() as fake:
        yield fake


def _sms_app(make_app, brevo, **extra):
    settings = {
        "SMS_BACKEND": "brevo",
        "SMS_API_URL": brevo.url,
        "SMS_API_KEY": API_KEY,
        "SMS_SENDER": "Vigie",
        "SMS_WEBHOOK_TOKEN": "hook-secret",
        "SMS_WEBHOOK_URL": "https://vigie.example/webhooks/brevo/sms",
    }
    return make_app(**{**settings, **extra})


def test_password_reset_email_arrives_over_smtp_in_french(make_app, smtp):
    inbox, port = smtp
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    from portal.demo.seed import seed_demo

    with app.app_context():
        seed_demo()
    drain(app)  # the demo's own messages (its invitation and reminders, a pause request)
    inbox.messages.clear()
    client = app.test_client()
    token = token_for(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    assert inbox.messages == []  # nothing leaves before the job runs
    assert drain(app) == ["done"]
    [received] = inbox.messages
    assert received["To"] == "fournisseur@vigie.test"
    assert received["Subject"] == "Votre lien pour choisir un nouveau mot de passe Vigie"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Bonjour Paul," in text
    assert re.search(r"http://localhost/password/reset/\S+", text)
    assert "Choisir un nouveau mot de passe" in html
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.template == "password_reset")).one()
        assert message.status == "sent" and f".vigie-{message.id}@" in message.provider_id


def test_refused_address_fails_for_good_with_the_servers_reason(make_app, smtp):
    _, port = smtp
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with app.test_request_context():
        notifications.queue_email("ghost@vigie.test", "password_reset", user=_FakeUser(), link="http://x", hours=1)
        db.session.commit()
    drain(app)
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "failed"
        assert "550" in message.failure_reason and "Mailbox does not exist" in message.failure_reason


def test_smtp_down_is_retried_and_nothing_is_lost(make_app, smtp):
    inbox, port = smtp
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with app.test_request_context():
        notifications.queue_email(
            "fournisseur@vigie.test", "password_reset", user=_FakeUser(), link="http://x", hours=1
        )
        db.session.commit()
    assert drain(app) == ["failed"]
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "queued" and "Serveur SMTP injoignable" in message.failure_reason
        row = db.session.scalars(select(OutboxJob)).one()
        assert row.status == "pending"
    app.config["MAIL_PORT"] = port  # the server is back
    with app.app_context():
        db.session.execute(db.update(OutboxJob).values(run_after=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        from portal.core import outbox

        assert outbox.sweep() == 1
    assert drain(app) == ["done"]
    assert len(inbox.messages) == 1


class _FakeUser:
    first_name = "Paul"
    email = "fournisseur@vigie.test"


def test_sms_goes_to_brevo_as_documented(make_app, brevo):
    app = _sms_app(make_app, brevo)
    with app.test_request_context():
        message_id = notifications.queue_sms(
            "+33612345678", "Votre attestation URSSAF expire dans 7 jours.", tag="expiry"
        ).id
        db.session.commit()
    assert drain(app) == ["done"]
    [call] = brevo.requests
    assert call["headers"]["Api-Key"] == API_KEY
    assert call["json"] == {
        "sender": "Vigie",
        "recipient": "33612345678",
        "content": "Votre attestation URSSAF expire dans 7 jours.",
        "type": "transactional",
        "tag": ["expiry", f"vigie-m{message_id}"],
        "unicodeEnabled": False,
        "webUrl": "https://vigie.example/webhooks/brevo/sms",
    }
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert (message.status, message.provider_id, message.segments) == ("sent", "1001", 1)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"SMS_API_KEY": "wrong"}, "Clé API refusée : unauthorized Key not found"),
        ({"credits": 0}, "Crédits SMS insuffisants : not_enough_credits Not enough credits"),
    ],
)
def test_brevo_refusals_fail_for_good_with_their_reason(make_app, brevo, setup, reason):
    app = _sms_app(make_app, brevo, **{k: v for k, v in setup.items() if k.isupper()})
    brevo.credits = setup.get("credits", brevo.credits)
    with app.test_request_context():
        notifications.queue_sms("+33612345678", "Bonjour")
        db.session.commit()
    drain(app)
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "failed" and message.failure_reason == reason


def test_brevo_outage_is_retried_then_sent_once(make_app, brevo):
    app = _sms_app(make_app, brevo)
    brevo.fail_next = [503]
    with app.test_request_context():
        notifications.queue_sms("+33612345678", "Bonjour")
        db.session.commit()
    assert drain(app) == ["failed"]
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "queued" and "Passerelle SMS indisponible (503)" in message.failure_reason
        db.session.execute(db.update(OutboxJob).values(run_after=utcnow()))
        db.session.commit()
        from portal.core import outbox

        outbox.sweep()
    assert drain(app) == ["done"]
    assert len(brevo.requests) == 2
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "sent" and message.failure_reason is None and message.attempts == 2


def _interrupted_after_the_call(app, brevo) -> int:
    """An SMS Brevo took, whose worker died before the answer was recorded."""
    message = _sent_sms(app)
    with app.app_context():
        db.session.execute(db.update(Message).values(status="sending", provider_id=None, sent_at=None))
        db.session.commit()
    return message.id


def test_an_interrupted_sms_brevo_took_is_recorded_sent_without_a_second_send(make_app, brevo):
    app = _sms_app(make_app, brevo)
    message_id = _interrupted_after_the_call(app, brevo)
    with app.test_request_context():
        notifications.deliver(message_id)  # the job again, after the crash
        message = db.session.get(Message, message_id)
        assert (message.status, message.provider_id, message.attempts) == ("sent", "1001", 1)
    assert len(brevo.requests) == 1  # one SMS, never two


def test_an_interrupted_sms_brevo_never_saw_is_issue_inconnue_not_resent(make_app, brevo):
    app = _sms_app(make_app, brevo)
    message_id = _interrupted_after_the_call(app, brevo)
    brevo.sent.clear()  # the call never reached Brevo
    with app.test_request_context():
        notifications.deliver(message_id)
        message = db.session.get(Message, message_id)
        assert message.status == "unknown" and "ne connaît pas ce message" in message.failure_reason
    assert len(brevo.requests) == 1


class _Crash(BaseException):
    """The worker dying in the middle of a provider call (not an error Vigie handles)."""


def test_a_batch_cut_by_a_crash_keeps_each_outcome_and_sends_nothing_twice(make_app, brevo):
    # deliver_many records a message's outcome with the next message's claim: a crash during the
    # third call must still leave the first two "sent", the third alone unknown, the rest queued.
    app = _sms_app(make_app, brevo)
    with app.test_request_context():
        ids = []
        for n in range(5):
            message = notifications.queue_sms(f"+3361234567{n}", f"Bonjour {n}", deliver_later=False)
            db.session.flush()
            ids.append(message.id)
        db.session.commit()
        gateway = notifications.sms_gateway()
        send, calls = gateway.send, []

        def dies_on_the_third(outgoing):
            calls.append(outgoing.id)
            if len(calls) == 3:
                send(outgoing)  # Brevo took it; the worker dies before recording it
                raise _Crash()
            return send(outgoing)

        gateway.send = dies_on_the_third
        with pytest.raises(_Crash):
            notifications.deliver_many(ids, gateway)
        db.session.rollback()
    with app.app_context():
        statuses = [db.session.get(Message, i).status for i in ids]
        assert statuses == ["sent", "sent", "sending", "queued", "queued"]
    with app.test_request_context():
        assert notifications.deliver_many(ids, notifications.sms_gateway()) == []  # the job again
    with app.app_context():
        rows = [db.session.get(Message, i) for i in ids]
        assert [m.status for m in rows] == ["sent"] * 5
        assert [m.attempts for m in rows] == [1] * 5
    assert len(brevo.sent) == 5  # Brevo confirmed the third; nobody got two SMS


def _sent_sms(app) -> Message:
    with app.test_request_context():
        notifications.queue_sms("+33612345678", "Bonjour")
        db.session.commit()
    drain(app)
    with app.app_context():
        return db.session.scalars(select(Message).where(Message.channel == "sms")).one()


def test_delivery_report_marks_the_sms_delivered(make_app, brevo):
    app = _sms_app(make_app, brevo)
    message = _sent_sms(app)
    client = app.test_client()
    payload = {
        "id": 26570,
        "to": "33612345678",
        "sms_count": 1,
        "messageId": int(message.provider_id),
        "msg_status": "delivered",
        "date": "2026-11-22 10:00:00",
        "reference": "ref-1001",
    }
    response = client.post("/webhooks/brevo/sms", json=payload, headers={"Authorization": "Bearer hook-secret"})
    assert response.status_code == 200 and response.json == {"updated": True}
    again = client.post("/webhooks/brevo/sms", json=payload, headers={"Authorization": "Bearer hook-secret"})
    assert again.json == {"updated": False}
    with app.app_context():
        assert db.session.get(Message, message.id).status == "delivered"


def test_hard_bounce_report_marks_the_sms_failed_with_a_reason(make_app, brevo):
    app = _sms_app(make_app, brevo)
    message = _sent_sms(app)
    app.test_client().post(
        "/webhooks/brevo/sms",
        json={"messageId": int(message.provider_id), "msg_status": "hard_bounce"},
        headers={"Authorization": "Bearer hook-secret"},
    )
    with app.app_context():
        failed = db.session.get(Message, message.id)
        assert failed.status == "failed" and "hard bounce" in failed.failure_reason


def test_delivery_report_webhook_is_authenticated(make_app, brevo):
    app = _sms_app(make_app, brevo)
    message = _sent_sms(app)
    client = app.test_client()
    body = {"messageId": int(message.provider_id), "msg_status": "delivered"}
    assert client.post("/webhooks/brevo/sms", json=body).status_code == 401
    assert client.post("/webhooks/brevo/sms", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = client.post("/webhooks/brevo/sms", json={"x": 1}, headers={"Authorization": "Bearer hook-secret"})
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.get(Message, message.id).status == "sent"
    unconfigured = make_app(SMS_WEBHOOK_TOKEN=None).test_client()
    assert unconfigured.post("/webhooks/brevo/sms", json=body).status_code == 404


def test_operator_sees_the_failure_reason_and_retries(make_app, brevo):
    app = _sms_app(make_app, brevo)
    from portal.demo.seed import seed_demo

    with app.app_context():
        seed_demo()
    drain(app)  # the demo's own emails
    brevo.credits = 0
    _sent_sms(app)
    client = app.test_client()
    login(client, "operateur@vigie.test")
    page = client.get("/operations/deliveries?status=failed").get_data(as_text=True)
    assert "Crédits SMS insuffisants" in page and "Renvoyer" in page
    with app.app_context():
        message_id = db.session.scalar(select(Message.id).where(Message.channel == "sms"))
    brevo.credits = 100
    token = token_for(client, "/operations/deliveries")
    response = client.post(f"/operations/deliveries/{message_id}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    assert drain(app) == ["done"]
    with app.app_context():
        assert db.session.get(Message, message_id).status == "sent"
    assert "Le message sera renvoyé" in client.get("/operations/deliveries").get_data(as_text=True)
    again = client.post(f"/operations/deliveries/{message_id}/retry", data={"csrf_token": token})
    assert again.status_code == 303
    assert "n&#39;est pas en échec" in client.get("/").get_data(as_text=True) or "n'est pas en échec" in client.get(
        "/operations/deliveries"
    ).get_data(as_text=True)


def test_operator_resends_an_issue_inconnue_only_when_accepting_the_risk(make_app, brevo):
    app = _sms_app(make_app, brevo)
    from portal.demo.seed import seed_demo

    with app.app_context():
        seed_demo(with_documents=False)
    message_id = _interrupted_after_the_call(app, brevo)
    brevo.sent.clear()
    with app.test_request_context():
        notifications.deliver(message_id)
    client = app.test_client()
    login(client, "operateur@vigie.test")
    page = client.get("/operations/deliveries?status=unknown").get_data(as_text=True)
    assert "Issue inconnue" in page and "Il a peut-être déjà été reçu" in page
    token = token_for(client, "/operations/deliveries")
    client.post(f"/operations/deliveries/{message_id}/retry", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Message, message_id).status == "unknown"  # not without the tick
    client.post(f"/operations/deliveries/{message_id}/retry", data={"csrf_token": token, "risk_duplicate": "1"})
    assert drain(app) == ["done"]
    with app.app_context():
        assert db.session.get(Message, message_id).status == "sent"
    assert len(brevo.requests) == 2


def test_non_operators_cannot_retry(app, demo):
    with app.test_request_context():
        message = notifications.queue_sms("+33612345678", "Bonjour")
        message.status = "failed"
        db.session.commit()
    client = app.test_client()
    login(client, "constructor@vigie.test")
    assert post(client, f"/operations/deliveries/{message.id}/retry").status_code == 403


def test_deliveries_page_runs_the_same_queries_for_5_or_200_messages(app, demo):
    client = app.test_client()
    login(client, "operateur@vigie.test")
    counts = []
    for total in (5, 200):
        with app.test_request_context():
            db.session.execute(db.delete(OutboxJob))
            db.session.execute(db.delete(Message))
            for index in range(total):
                db.session.add(Message(channel="sms", recipient=f"+3361234{index:04d}", body_text="x", status="failed"))
            db.session.commit()
        with count_queries(app) as statements:
            assert client.get("/operations/deliveries").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_deliveries_filter_swaps_the_table_over_htmx(app, demo):
    with app.app_context():
        db.session.add_all(
            [
                Message(channel="sms", recipient="+33611111111", body_text="ok", status="sent"),
                Message(
                    channel="email",
                    recipient="a@b.test",
                    subject="Raté",
                    body_text="x",
                    status="failed",
                    failure_reason="Serveur SMTP : 554 refusé",
                ),
            ]
        )
        db.session.commit()
    client = app.test_client()
    login(client, "operateur@vigie.test")
    response = client.get("/operations/deliveries?status=failed", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="deliveries">')
    assert "Raté" in body and "Serveur SMTP : 554 refusé" in body and "+33611111111" not in body
    full = client.get("/operations/deliveries?status=sent").get_data(as_text=True)
    assert "<html" in full and "+33611111111" in full and "Raté" not in full
