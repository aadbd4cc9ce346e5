"""Invitations that follow up on the inviting company's cadence, tested across dates (the clock
moved): once per step, stopping on acceptance, on refusal, on a bounce, or when asked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from stdnum.fr import siret as siret_number

from portal.core import clock
from portal.core.extensions import db
from portal.models import EmailBounce, FollowUp, FollowUpSend, Invitation, Message, Organisation, OutboxJob, Partnership
from tests.api.support import BATIE, CONSTRUCTOR, MARTIN, _owner
from tests.support.data import drain, valid_siren
from tests.support.http import HTMX, post
from tests.support.notices import waiting

PARIS = clock.PARIS
START = date(2026, 12, 1)  # a Tuesday


def freeze(monkeypatch, day: date, hour: int = 7) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(day, time(hour, 30), tzinfo=PARIS))


def invite(app, email: str, seed: int = 61000001) -> int:
    """Constructor SA invites a company not on Vigie yet; returns the partnership id."""
    from portal.partners import partnerships

    with app.test_request_context():
        tenancy, user = _owner(CONSTRUCTOR)
        siren = valid_siren(seed)
        siret = next(siren + f"{nic:05d}" for nic in range(10, 100) if siret_number.is_valid(siren + f"{nic:05d}"))
        partnership = partnerships.invite(tenancy, user, email=email, siret=siret, legal_name="Plâtrerie Nouvelle")
        return partnership.id


def sweep(app, monkeypatch, day: date) -> dict:
    from portal.notifications import follow_ups

    freeze(monkeypatch, day)
    with app.test_request_context():
        return follow_ups.sweep(day)


def invitation_mails(app, email: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Message.subject)
                .where(Message.recipient == email, Message.template == "partner_invitation")
                .order_by(Message.id)
            )
        )


def test_an_invitation_is_reminded_at_j2_j4_j6_once_each_and_the_inviting_side_sees_where_it_stands(
    app, client, auth, demo, monkeypatch
):
    freeze(monkeypatch, START)
    invite(app, "contact@platrerie.test")
    assert invitation_mails(app, "contact@platrerie.test") == [
        "Constructor SA vous invite à partager votre dossier de vigilance sur Vigie"
    ]
    for day in range(1, 7):
        sweep(app, monkeypatch, START + timedelta(days=day))
        sweep(app, monkeypatch, START + timedelta(days=day))  # twice the same day: nothing more
    reminder = "Rappel : Constructor SA vous invite à partager votre dossier de vigilance sur Vigie"
    assert invitation_mails(app, "contact@platrerie.test")[1:] == [reminder, reminder, reminder]
    with app.app_context():
        bodies = db.session.scalars(
            select(Message.body_text).where(Message.template == "partner_invitation").order_by(Message.id)
        ).all()
        follow_up = db.session.scalar(select(FollowUp))
        assert [s.step for s in db.session.scalars(select(FollowUpSend).order_by(FollowUpSend.step))] == [1, 2, 3]
    assert "Rappel n° 3 : cette invitation attend toujours votre réponse." in bodies[-1]
    # "Qui m'a invité ?" in the mail itself: who typed the address, and a link to refuse.
    assert "Qui vous invite : " in bodies[-1] and "de Constructor SA (SIREN 521087437)" in bodies[-1]
    assert "/notifications/decline/" in bodies[-1]
    assert follow_up.next_on == START + timedelta(days=20)
    auth.login("constructor@vigie.test")
    page = client.get("/notifications/follow-ups").get_data(as_text=True)
    assert "contact@platrerie.test" in page
    assert "3e relance envoyée le 7 décembre 2026, prochaine le 21 décembre 2026" in page
    # A step missed while Vigie was down is not replayed: J+30 and J+60 pass, one reminder at J+60.
    sweep(app, monkeypatch, START + timedelta(days=61))
    with app.app_context():
        assert [s.step for s in db.session.scalars(select(FollowUpSend).order_by(FollowUpSend.step))] == [1, 2, 3, 6]
    assert len(invitation_mails(app, "contact@platrerie.test")) == 5
    sweep(app, monkeypatch, START + timedelta(days=90))  # the last one, then it is done
    with app.app_context():
        assert db.session.scalar(select(FollowUp.stop_reason)) == "done"
    sweep(app, monkeypatch, START + timedelta(days=120))
    assert len(invitation_mails(app, "contact@platrerie.test")) == 6


def test_the_reminders_stop_when_the_request_is_accepted(app, client, auth, demo, monkeypatch):
    """A company on Vigie: its owners' notice (their digest), an SMS with the option; then it accepts."""
    from portal.partners import partnerships

    freeze(monkeypatch, START)
    with app.test_request_context():
        tenancy, user = _owner(BATIE)
        tenancy.organisation.reminders_enabled = True
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == MARTIN))
        db.session.execute(
            Partnership.__table__.delete().where(
                Partnership.target_id == martin.id, Partnership.requester_id == tenancy.organisation.id
            )
        )
        partnership = partnerships.ask(tenancy.organisation, martin, user)
        db.session.commit()
        pid, asked_on = partnership.id, f"{partnership.requested_at:%d/%m/%Y}"
    sweep(app, monkeypatch, START + timedelta(days=2))
    notice = next(
        n for n in waiting(app, "fournisseur@vigie.test", "partner_request") if n.key.startswith("follow_up:")
    )
    assert (
        notice.line
        == f"Rappel : Batie Construction attend votre réponse à sa demande de mise en relation du {asked_on}."
    )
    with app.app_context():
        sms = db.session.scalar(select(Message).where(Message.channel == "sms", Message.template == "follow_up"))
        job = db.session.scalar(select(OutboxJob).where(OutboxJob.args["message_id"].as_integer() == sms.id))
    assert sms.recipient == "+33612345678" and "Batie Construction attend votre réponse" in sms.body_text
    # Swept at 07:30: the SMS waits for the sending hours (08:00 Paris, 07:00 UTC in winter).
    assert job.run_after == datetime(2026, 12, 3, 7, 0)
    # The inviting side's weekly summary says so too.
    assert any(
        "n'a pas encore répondu à votre demande : 1re relance envoyée" in n.line
        for n in waiting(app, "agence@vigie.test")
    )
    auth.login("fournisseur@vigie.test")
    assert post(client, f"/partners/requests/{pid}/accept").status_code in (200, 303)
    with app.app_context():
        assert db.session.scalar(select(FollowUp.stop_reason).where(FollowUp.partnership_id == pid)) == "accepted"
    sweep(app, monkeypatch, START + timedelta(days=4))
    with app.app_context():
        assert db.session.scalar(select(FollowUp.sent_count).where(FollowUp.partnership_id == pid)) == 1
    auth.logout()
    auth.login("agence@vigie.test")
    assert "Acceptée : relances arrêtées" in client.get("/notifications/follow-ups").get_data(as_text=True)


def test_the_reminders_stop_when_the_address_bounces(app, demo, monkeypatch):
    freeze(monkeypatch, START)
    invite(app, "bounce@platrerie.test")  # the dev outbox bounces bounce@…, as a server refuses a mailbox
    drain(app)
    with app.app_context():
        assert db.session.scalar(select(EmailBounce.email)) == "bounce@platrerie.test"
        assert db.session.scalar(select(Message.status).where(Message.recipient == "bounce@platrerie.test")) == (
            "failed"
        )
    sweep(app, monkeypatch, START + timedelta(days=2))
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert follow_up.stop_reason == "bounced" and follow_up.sent_count == 0
    assert len(invitation_mails(app, "bounce@platrerie.test")) == 1


def test_a_brevo_hard_bounce_is_recorded_and_stops_the_reminders(app, client, demo, monkeypatch):
    assert client.post("/webhooks/brevo/email", json={"event": "hard_bounce", "email": "x@y.test"}).status_code == 404
    app.config["MAIL_WEBHOOK_TOKEN"] = "brevo-secret"
    freeze(monkeypatch, START)
    invite(app, "contact@platrerie.test")
    event = {"event": "hard_bounce", "email": "Contact@Platrerie.test", "reason": "550 mailbox unavailable"}
    assert client.post("/webhooks/brevo/email", json=event).status_code == 401
    auth = {"Authorization": "Bearer brevo-secret"}
    assert client.post("/webhooks/brevo/email", json={"event": "hard_bounce"}, headers=auth).status_code == 400
    opened = client.post("/webhooks/brevo/email", json={"event": "opened", "email": "a@b.test"}, headers=auth)
    assert opened.get_json() == {"recorded": False}
    assert client.post("/webhooks/brevo/email", json=event, headers=auth).get_json() == {"recorded": True}
    sweep(app, monkeypatch, START + timedelta(days=2))
    with app.app_context():
        assert db.session.scalar(select(FollowUp.stop_reason)) == "bounced"


def test_the_cadence_is_the_companys_and_the_inviting_side_can_stop_one(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, START)
    auth.login("constructor@vigie.test")
    page = client.get("/notifications/follow-ups").get_data(as_text=True)
    assert 'value="2, 4, 6, 20, 30, 60, 90"' in page
    for bad, message in (
        ("10, 3", "Chaque relance vient après la précédente"),
        ("deux", "Écrivez des nombres de jours séparés par des virgules"),
        ("0", "Entre 1 et 365 jours"),
    ):
        response = post(client, "/notifications/follow-ups", {"days": bad}, headers=HTMX)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert post(client, "/notifications/follow-ups", {"days": "J+3, J+10"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Organisation.follow_up_days).where(Organisation.siren == CONSTRUCTOR)) == "3,10"
    invite(app, "contact@platrerie.test")
    sweep(app, monkeypatch, START + timedelta(days=2))
    assert len(invitation_mails(app, "contact@platrerie.test")) == 1
    sweep(app, monkeypatch, START + timedelta(days=3))
    assert len(invitation_mails(app, "contact@platrerie.test")) == 2
    with app.app_context():
        follow_up_id = db.session.scalar(select(FollowUp.id))
    # Another company cannot stop it, whatever id it types.
    auth.logout()
    auth.login("agence@vigie.test")
    for typed in (follow_up_id, 2**62):
        assert post(client, f"/notifications/follow-ups/{typed}/stop").status_code == 404
    auth.logout()
    auth.login("constructor@vigie.test")
    assert post(client, f"/notifications/follow-ups/{follow_up_id}/stop").status_code == 303
    assert "Relances arrêtées à votre demande" in client.get("/notifications/follow-ups").get_data(as_text=True)
    sweep(app, monkeypatch, START + timedelta(days=10))
    assert len(invitation_mails(app, "contact@platrerie.test")) == 2


def test_i_do_not_know_this_company_refuses_the_invitation_and_stops_everything(app, client, demo, monkeypatch):
    freeze(monkeypatch, START)
    pid = invite(app, "contact@platrerie.test")
    with app.app_context():
        body = db.session.scalar(select(Message.body_text).where(Message.template == "partner_invitation"))
    link = next(line for line in body.splitlines() if "/notifications/decline/" in line).strip()
    path = link.split("localhost", 1)[1]
    page = client.get(path).get_data(as_text=True)
    assert "Constructor SA (SIREN 521087437) a invité contact@platrerie.test sur Vigie." in page
    from tests.support.http import csrf_from

    token = csrf_from(page)
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    assert "ne fonctionne plus et vous ne recevrez plus de rappel" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Partnership, pid).status == "refused"
        assert db.session.scalar(select(Invitation.revoked_at)) is not None
        assert db.session.scalar(select(FollowUp.stop_reason)) == "refused"
        told = db.session.scalar(select(Message.subject).where(Message.template == "invitation_declined"))
    assert told == "contact@platrerie.test a refusé votre invitation"
    assert client.get("/notifications/decline/forged").status_code == 404


def test_the_follow_up_page_runs_the_same_statements_whatever_its_length(app, client, auth, demo, monkeypatch):
    from tests.support.data import count_queries

    freeze(monkeypatch, START)
    auth.login("constructor@vigie.test")
    counts = []
    for batch in (range(1), range(1, 13)):
        for n in batch:
            invite(app, f"contact{n}@platrerie.test", seed=61000100 + n)
        with count_queries(app) as statements:
            page = client.get("/notifications/follow-ups").get_data(as_text=True)
        counts.append(len(statements))
    assert page.count('<tr id="follow-up-') == 13
    assert counts[0] == counts[1]
