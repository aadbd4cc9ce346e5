"""A supplier asks one client to pause its reminders, with a reason; the client decides. Every
step audited and told; while paused, the reminders sent on that client's behalf are skipped."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from portal.core import clock
from portal.core.extensions import db
from portal.messaging import notices
from portal.models import (
    AuditEvent,
    Message,
    Notice,
    NotificationPreference,
    Organisation,
    Partnership,
    ReminderPause,
    User,
)
from tests.api.support import CONSTRUCTOR, DEMOLITOR, MARTIN, accept_all_requests_to
from tests.support.data import drain
from tests.support.http import HTMX, post

PARIS = clock.PARIS
SUPPLIER, CLIENT = "fournisseur@vigie.test", "constructor@vigie.test"


def freeze(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(day, time(10, 0), tzinfo=PARIS))


def org(siren: str) -> int:
    return db.session.scalar(select(Organisation.id).where(Organisation.siren == siren))


def partnership_id(app, client_siren: str = CONSTRUCTOR) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == org(client_siren),
                Partnership.target_id == org(MARTIN),
                Partnership.status == "accepted",
            )
        )


def connected(app):
    """Constructor SA and Demolitor SAS (one owner) are Martin's accepted clients."""
    from portal.partners import partnerships

    with app.test_request_context():
        owner = db.session.scalar(select(User).where(User.email == CLIENT))
        demolitor, martin = db.session.get(Organisation, org(DEMOLITOR)), db.session.get(Organisation, org(MARTIN))
        partnerships.ask_unless_related(demolitor, martin, owner)
        db.session.commit()
    accept_all_requests_to(app, MARTIN)


def mails_to(app, email: str) -> list[Message]:
    with app.app_context():
        return list(db.session.scalars(select(Message).where(Message.recipient == email).order_by(Message.id)))


def remind_on_behalf_of(app, *client_sirens: str, key: str) -> Notice:
    """A reminder to Martin's owner sent for these clients (as a checkpoint or a requirement is)."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == SUPPLIER))
        [notice] = notices.notify(
            [user],
            org(MARTIN),
            "new_requirement",
            key,
            "Constructor SA vous demande désormais : RC Pro.",
            link="http://localhost/documents",
            for_clients=[org(s) for s in client_sirens],
        )
        db.session.commit()
        return notice


def test_a_supplier_asks_a_pause_the_client_grants_it_and_its_reminders_stop(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    connected(app)
    pid = partnership_id(app)
    auth.login(SUPPLIER)
    page = client.get("/notifications/inviters").get_data(as_text=True)
    assert "Constructor SA" in page and "Demander une pause des relances" in page
    form = client.get(f"/notifications/inviters/{pid}/pause")
    assert form.status_code == 200 and "Contrat terminé" in form.get_data(as_text=True)
    # A reason is needed; "Autre raison" needs a word; nothing is saved meanwhile.
    missing = post(client, f"/notifications/inviters/{pid}/pause", {"reason": "", "comment": ""})
    assert missing.status_code == 422 and "Choisissez une raison." in missing.get_data(as_text=True)
    other = post(client, f"/notifications/inviters/{pid}/pause", {"reason": "other"}, headers=HTMX)
    assert other.status_code == 422 and "Dites en quelques mots pourquoi." in other.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ReminderPause.id)) is None
    asked = post(
        client,
        f"/notifications/inviters/{pid}/pause",
        {"reason": "contract_ended", "comment": "Chantier livré en juin"},
    )
    assert asked.status_code == 303
    again = post(client, f"/notifications/inviters/{pid}/pause", {"reason": "contract_ended"})
    assert "Une demande de pause attend déjà la décision de ce client." in again.get_data(as_text=True)
    # The client hears of it at once (its default for pause requests), with the reason and the comment.
    [told] = [m for m in mails_to(app, CLIENT) if "pause" in m.subject]
    assert "Menuiserie Martin demande une pause de vos relances : Contrat terminé." in told.body_text
    assert "Chantier livré en juin" in told.body_text
    with app.app_context():
        pause = db.session.scalar(select(ReminderPause))
    # Nobody else decides: not the supplier, not another company.
    assert (
        post(client, f"/notifications/pauses/{pause.id}/decide", {f"p{pause.id}-decision": "pause"}).status_code == 404
    )
    auth.logout()
    auth.login("agence@vigie.test")
    assert (
        post(client, f"/notifications/pauses/{pause.id}/decide", {f"p{pause.id}-decision": "pause"}).status_code == 404
    )
    assert "Menuiserie Martin" not in client.get("/notifications/pauses").get_data(as_text=True)
    auth.logout()

    auth.login(CLIENT)
    listing = client.get("/notifications/pauses").get_data(as_text=True)
    assert "Menuiserie Martin" in listing and "Chantier livré en juin" in listing
    no_date = post(client, f"/notifications/pauses/{pause.id}/decide", {f"p{pause.id}-decision": "pause"})
    assert no_date.status_code == 422 and "Indiquez une date à venir (JJ/MM/AAAA)." in no_date.get_data(as_text=True)
    no_answer = post(client, f"/notifications/pauses/{pause.id}/decide", {f"p{pause.id}-decision": "refuse"})
    assert no_answer.status_code == 422
    assert "Expliquez au fournisseur pourquoi ses relances continuent." in no_answer.get_data(as_text=True)
    decided = post(
        client,
        f"/notifications/pauses/{pause.id}/decide",
        {f"p{pause.id}-decision": "pause", f"p{pause.id}-until": "2027-01-31"},
    )
    assert decided.status_code == 303
    [answer] = [m for m in mails_to(app, SUPPLIER) if "pause" in m.body_text]
    assert "Constructor SA met ses relances en pause jusqu'au 31/01/2027." in answer.body_text
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("reminder_pause.%"))).all()
    assert actions == ["reminder_pause.asked", "reminder_pause.granted"]

    # Reminders sent for Constructor alone are skipped; one also sent for Demolitor still goes.
    assert remind_on_behalf_of(app, CONSTRUCTOR, key="r1").skipped == "paused"
    assert remind_on_behalf_of(app, CONSTRUCTOR, DEMOLITOR, key="r2").skipped is None
    # The real path: Constructor adds a requirement for Martin; its notice is skipped.
    post(client, f"/partners/companies/{org_in(app, MARTIN)}/requirements", {"types": ["RC_PRO", "QUALIBAT"]})
    drain(app)
    with app.app_context():
        skipped = db.session.scalars(select(Notice.skipped).where(Notice.kind == "new_requirement")).all()
    assert skipped[-1] == "paused"
    # When the pause ends, reminders come back.
    freeze(monkeypatch, date(2027, 2, 1))
    assert remind_on_behalf_of(app, CONSTRUCTOR, key="r3").skipped is None
    # And the supplier's page says where it stands.
    auth.logout()
    auth.login(SUPPLIER)
    page = client.get("/notifications/inviters").get_data(as_text=True)
    assert "Pause refusée" not in page


def org_in(app, siren: str) -> int:
    with app.app_context():
        return org(siren)


def test_the_client_refuses_with_an_answer_or_ends_the_relationship(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    connected(app)
    auth.login(SUPPLIER)
    for siren in (CONSTRUCTOR, DEMOLITOR):
        assert (
            post(
                client, f"/notifications/inviters/{partnership_id(app, siren)}/pause", {"reason": "unknown_client"}
            ).status_code
            == 303
        )
    auth.logout()
    auth.login(CLIENT)
    with app.app_context():
        first, second = db.session.scalars(select(ReminderPause).order_by(ReminderPause.id)).all()
    refused = post(
        client,
        f"/notifications/pauses/{first.id}/decide",
        {f"p{first.id}-decision": "refuse", f"p{first.id}-answer": "Le chantier de Lyon est en cours."},
    )
    assert refused.status_code == 303
    # Demolitor's request is answered from Demolitor's account (the owner switches to it). The
    # supplier's owner who asked wants no pause answers at all: the end of a relationship still
    # reaches him, once, with the client's answer.
    with app.app_context():
        asker = db.session.scalar(select(User).where(User.email == SUPPLIER))
        db.session.add(NotificationPreference(user_id=asker.id, kind="pause_answer", cadence="never"))
        db.session.commit()
    post(client, "/organisations/switch", {"organisation_id": org_in(app, DEMOLITOR)})
    ended = post(
        client,
        f"/notifications/pauses/{second.id}/decide",
        {f"p{second.id}-decision": "end", f"p{second.id}-answer": "Nous ne travaillons plus ensemble."},
    )
    assert ended.status_code == 303
    with app.app_context():
        assert db.session.get(ReminderPause, first.id).status == "refused"
        assert db.session.get(ReminderPause, second.id).status == "ended"
        assert db.session.get(Partnership, second.partnership_id).status == "ended"
    bodies = [m.body_text for m in mails_to(app, SUPPLIER)]
    assert any(
        "Constructor SA refuse de mettre ses relances en pause." in b and "Le chantier de Lyon" in b for b in bodies
    )
    ended_mails = [m for m in mails_to(app, SUPPLIER) if "Demolitor SAS" in (m.subject + m.body_text)]
    assert len(ended_mails) == 1, [m.subject for m in ended_mails]  # one email, not a second one
    assert ended_mails[0].subject == "Demolitor SAS : relation terminée"
    assert "Réponse : Nous ne travaillons plus ensemble." in ended_mails[0].body_text
    auth.logout()
    auth.login(SUPPLIER)
    page = client.get("/notifications/inviters").get_data(as_text=True)
    assert "Pause refusée" in page and "Le chantier de Lyon est en cours." in page
    assert "Demolitor SAS" not in page  # the relationship ended


def test_a_pause_cannot_be_asked_of_a_company_that_is_not_an_accepted_client(app, client, auth, demo):
    auth.login(SUPPLIER)
    with app.app_context():
        pending = db.session.scalar(select(Partnership.id).where(Partnership.target_id == org(MARTIN)))
        other = db.session.scalar(select(Partnership.id).where(Partnership.target_id != org(MARTIN)))
    for pid in (pending, other, 2**62):
        assert post(client, f"/notifications/inviters/{pid}/pause", {"reason": "contract_ended"}).status_code == 404
    # The pending request shows who asks, with the way to refuse it.
    page = client.get("/notifications/inviters").get_data(as_text=True)
    assert "Demande en attente de votre réponse" in page and "Refuser" in page


def test_a_paused_client_no_longer_sends_the_expiry_reminders_it_alone_asks_for(app, demo_file, monkeypatch):
    """Martin's only client is Demolitor in the demo file: once Demolitor grants a pause, the
    expiry sweep's reminder for Martin's Kbis is kept as skipped, never sent."""
    from portal.documents import expiry
    from portal.models import DocumentVersion
    from portal.notifications import pauses

    today = clock.today()
    freeze(monkeypatch, today)
    with app.test_request_context():
        [pending] = db.session.scalars(select(ReminderPause).where(ReminderPause.status == "pending")).all()
        partnership = db.session.get(Partnership, pending.partnership_id)
        from tests.api.support import _owner

        tenancy, owner = _owner(DEMOLITOR)
        assert partnership.requester_id == tenancy.organisation.id
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Partnership)
                .where(Partnership.target_id == org(MARTIN), Partnership.status == "accepted")
            )
            == 1
        )
        pauses.decide(tenancy, owner, pending.id, "pause", until=today + timedelta(days=90), answer="")
        kbis = db.session.scalar(select(DocumentVersion).where(DocumentVersion.original_filename == "kbis.pdf"))
        expiry.sweep(kbis.valid_until - timedelta(days=7))
        notice = db.session.scalar(select(Notice).where(Notice.key == f"expiry:{kbis.id}:before-7"))
    assert notice.skipped == "paused" and notice.sent_at is None
    assert "Demolitor SAS" in notice.asked_by  # who it was for


def test_the_pages_run_the_same_statements_whatever_their_length(app, client, auth, demo, monkeypatch):
    """« Qui m'a invité ? » and « Demandes de pause » with two rows, then with twelve more."""
    from sqlalchemy.orm import joinedload

    from portal.core.tenancy import Tenancy
    from portal.models import Membership
    from portal.notifications import pauses
    from portal.partners import partnerships
    from tests.support.data import count_queries, other_company

    freeze(monkeypatch, date(2026, 12, 2))
    connected(app)
    auth.login(SUPPLIER)
    for siren in (CONSTRUCTOR, DEMOLITOR):
        post(client, f"/notifications/inviters/{partnership_id(app, siren)}/pause", {"reason": "contract_ended"})
    auth.logout()

    def measure(email: str, path: str, rows: str) -> tuple[int, int]:
        auth.login(email)
        with count_queries(app) as statements:
            page = client.get(path).get_data(as_text=True)
        auth.logout()
        return len(statements), page.count(rows)

    def pages():
        return measure(SUPPLIER, "/notifications/inviters", '<tr id="inviter-'), measure(
            CLIENT, "/notifications/pauses", '<article class="card pause"'
        )

    before = pages()
    for n in range(12):
        supplier_id = other_company(app, f"fournisseur{n}@autres.test", 62000000 + n, f"Fournisseur {n}")
        client_id = other_company(app, f"client{n}@autres.test", 62100000 + n, f"Client {n}")
        with app.test_request_context():
            owner = db.session.scalar(select(User).where(User.email == CLIENT))
            constructor = db.session.get(Organisation, org(CONSTRUCTOR))
            supplier, other_client = db.session.get(Organisation, supplier_id), db.session.get(Organisation, client_id)
            asked = partnerships.ask(constructor, supplier, owner)
            asked.status = "accepted"
            partnerships.ask(other_client, db.session.get(Organisation, org(MARTIN)), owner)  # pending for Martin
            db.session.commit()
            user = db.session.scalar(select(User).where(User.email == f"fournisseur{n}@autres.test"))
            membership = db.session.scalar(
                select(Membership).where(Membership.user_id == user.id).options(joinedload(Membership.organisation))
            )
            pauses.ask(Tenancy(membership=membership, memberships=[membership]), user, asked.id, "contract_ended", "")
    after = pages()
    assert [rows for _, rows in before] == [2, 1] and [rows for _, rows in after] == [14, 13]
    assert [count for count, _ in before] == [count for count, _ in after]
