"""The reminder wizard ("Relancer par Mail ou SMS"): option, selection, number fixes, preview,
confirmation exactly once, fan-out through the outbox, progress, retries, history, sending hours."""

from __future__ import annotations

import html
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.integrations import sms_encoding
from portal.messaging import sms_rules
from portal.models import (
    AuditEvent,
    Contract,
    Employee,
    Message,
    Organisation,
    OutboxJob,
    ReminderCampaign,
    ReminderRecipient,
    User,
)
from tests.support.data import drain, other_company
from tests.support.http import HTMX, post, token_for

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10H = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
SUNDAY_10H = datetime(2026, 11, 22, 10, 0, tzinfo=PARIS)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def at_monday(monkeypatch):
    monkeypatch.setattr("portal.core.clock.now", lambda: MONDAY_10H)


@pytest.fixture
def batie(at_monday, batie):
    """Batie's contracts of "this month", seeded on Monday 23 November 2026 at 10:00 (the clock
    stays there: a test may move it to another moment of the same month)."""
    return batie


def _open(client, batie, channel="sms", **extra):
    """From the contracts page filtered on "Contrat de travail": open the wizard."""
    data = {"channel": channel, "typology": batie["typologies"]["employment"], **extra}
    return post(client, "/contracts/reminders", data)


def _campaign_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ReminderCampaign.id).order_by(ReminderCampaign.id.desc()))


# SMS rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("é" * 160, "GSM-7", 1),  # é is in the GSM-7 alphabet
        ("a" * 158 + "€", "GSM-7", 1),  # an extension character takes two septets
        ("a" * 159 + "€", "GSM-7", 2),
        ("a" * 150 + "[]{}~", "GSM-7", 1),  # 150 + 5 × 2 septets
        ("a" * 151 + "[]{}~", "GSM-7", 2),
        ("ê" + "a" * 69, "UCS-2", 1),
        ("ê" + "a" * 70, "UCS-2", 2),
        ("ê" + "a" * 133, "UCS-2", 2),
        ("ê" + "a" * 134, "UCS-2", 3),
        ("😀" + "a" * 68, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" + "a" * 69, "UCS-2", 2),
    ],
)
def test_segments_follow_gsm7_and_ucs2_rules(text, encoding, segments):
    result = sms_encoding.encoding_of(text)
    assert (result.name, result.segments) == (encoding, segments)


def test_cost_is_per_segment():
    assert sms_rules.cost(602) == Decimal("45.15")
    assert sms_rules.cost(1204) == Decimal("90.30")


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 10, 0)),  # Monday, open
        (datetime(2026, 11, 23, 7, 59), datetime(2026, 11, 23, 8, 0)),  # before opening
        (datetime(2026, 11, 28, 19, 59), datetime(2026, 11, 28, 19, 59)),  # Saturday evening, open
        (datetime(2026, 11, 28, 20, 0), datetime(2026, 11, 30, 8, 0)),  # Saturday 20:00 → Monday
        (datetime(2026, 11, 22, 10, 0), datetime(2026, 11, 23, 8, 0)),  # Sunday → Monday
        (datetime(2026, 11, 11, 10, 0), datetime(2026, 11, 12, 8, 0)),  # Armistice day → next day
        (datetime(2026, 12, 24, 21, 0), datetime(2026, 12, 26, 8, 0)),  # Christmas skipped
        (datetime(2027, 5, 16, 9, 0), datetime(2027, 5, 18, 8, 0)),  # Sunday then Whit Monday
    ],
)
def test_sms_go_monday_to_saturday_8_to_20_except_public_holidays(moment, opening):
    assert sms_rules.next_opening(moment.replace(tzinfo=PARIS)) == opening.replace(tzinfo=PARIS)


# The option ----------------------------------------------------------------------------------


def test_with_the_option_off_the_zone_is_absent_and_every_wizard_url_is_403(app, client, auth, batie):
    with app.app_context():
        db.session.get(Organisation, batie["orgs"]["Batie Construction"]).reminders_enabled = False
        db.session.commit()
    auth.login("agence@vigie.test")
    page = _text(client.get("/contracts", query_string={"typology": batie["typologies"]["employment"]}))
    assert "-- Relancer par Mail ou SMS --" not in page and 'name="checked"' not in page
    responses = [
        _open(client, batie),
        client.get("/contracts/reminders/1"),
        client.get("/contracts/reminders/1/confirm"),
        post(client, "/contracts/reminders/1/confirm"),
        post(client, "/contracts/reminders/1/retry"),
        post(client, "/contracts/reminders/1/employees/1/phone", {"phone": "0612345678"}),
    ]
    for response in responses:
        assert response.status_code == 403
        assert "option non souscrite" in _text(response).lower() and "contactez le support" in _text(response).lower()
    assert _count(app, ReminderCampaign) == 0
    # The zone says why and how to get the option; the history stays the agency's.
    assert "n'est pas active pour votre agence" in page and "demandez son activation au support" in page
    assert client.get("/contracts/reminders").status_code == 200
    assert client.get("/contracts/reminders.csv").status_code == 200


def test_switching_the_option_off_keeps_the_agencys_history_and_csv(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    with app.app_context():
        db.session.get(Organisation, batie["orgs"]["Batie Construction"]).reminders_enabled = False
        db.session.commit()
    history = _text(client.get("/contracts/reminders"))
    assert "<td>602</td>" in history.split('id="reminder-history"')[1]
    progress = client.get(f"/contracts/reminders/{campaign}/progress")
    assert progress.status_code == 200 and "<title>Relance terminée" in _text(progress)
    lines = client.get("/contracts/reminders.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    # The CSV says the Paris time the screen shows, not the stored UTC (one or two hours behind).
    with app.app_context():
        confirmed = db.session.get(ReminderCampaign, campaign).confirmed_at
    paris = confirmed.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)
    assert lines[1].startswith(f"{paris:%d/%m/%Y %H:%M};") and paris.hour != confirmed.hour
    assert post(client, f"/contracts/reminders/{campaign}/retry").status_code == 403  # sending needs it


def test_the_zone_is_disabled_unless_the_typology_is_employment(app, client, auth, batie):
    auth.login("agence@vigie.test")
    page = _text(client.get("/contracts"))
    assert "-- Relancer par Mail ou SMS --" in page
    assert re.search(r"<fieldset disabled", page) and "choisissez « Contrat de travail »" in page
    response = _open(client, batie, typology=batie["typologies"]["assignment"])
    assert response.status_code == 303
    assert "uniquement la typologie « Contrat de travail »" in _text(client.get(response.headers["Location"]))
    assert _count(app, ReminderCampaign) == 0
    page = _text(client.get("/contracts", query_string={"typology": batie["typologies"]["employment"]}))
    assert "<fieldset disabled" not in page and "Les 853 contrats du filtre sont sélectionnés" in page


# The SMS dialog ------------------------------------------------------------------------------


def test_the_sms_dialog_summarises_the_campaign_in_the_agencies_words(app, client, auth, batie):
    auth.login("agence@vigie.test")
    response = _open(client, batie)
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "604 salariés concernés par 853 contrats non signés" in page
    assert "2 numéros erronés" in page and "602 SMS seront envoyés" in page
    assert page.count('name="employee"') == 602
    # Over htmx, the same step comes as a dialog.
    token = token_for(client, "/contracts")
    fragment = client.post(
        "/contracts/reminders",
        data={"csrf_token": token, "channel": "sms", "typology": batie["typologies"]["employment"]},
        headers=HTMX,
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<dialog id="reminder-dialog"') and "<html" not in fragment


def test_rows_unchecked_on_the_contracts_page_are_left_out(app, client, auth, batie):
    with app.app_context():
        ids = db.session.scalars(select(Contract.id).order_by(Contract.id).limit(3)).all()
    auth.login("agence@vigie.test")
    response = _open(client, batie, shown=ids, checked=ids[:1])
    page = _text(client.get(response.headers["Location"]))
    assert "par 851 contrats non signés" in page
    with app.app_context():
        assert db.session.scalar(select(ReminderCampaign.excluded_contract_ids)) == ids[1:]


def test_a_wrong_number_is_fixed_inline_and_saved_to_the_employee(app, client, auth, batie):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    with app.app_context():
        wrong = db.session.scalars(
            select(Employee).where(Employee.mobile_phone_raw.is_not(None)).order_by(Employee.id)
        ).all()
    token = token_for(client, f"/contracts/reminders/{campaign}")
    path = f"/contracts/reminders/{campaign}/employees/{wrong[0].id}/phone"
    for bad in ("0700 12 34 56", "01 23 45 67 89", "n'importe quoi"):
        response = client.post(path, data={"csrf_token": token, "phone": bad}, headers=HTMX)
        body = _text(response)
        assert response.status_code == 422 and "n'est pas un mobile français valide" in body
        assert f'id="phone-{wrong[0].id}-error"' in body
    response = client.post(path, data={"csrf_token": token, "phone": "06 98 76 54 32"}, headers=HTMX)
    body = _text(response)
    assert response.status_code == 200 and "1 numéro erroné" in body and "603 SMS seront envoyés" in body
    with app.app_context():
        employee = db.session.get(Employee, wrong[0].id)
        assert (employee.mobile_phone, employee.mobile_phone_raw) == ("+33698765432", None)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "employee.phone_corrected"))
        assert event.details["phone"] == "+33698765432"
    # Overseas mobiles are French mobiles too; without JavaScript the form posts and redirects.
    plain = post(client, f"/contracts/reminders/{campaign}/employees/{wrong[1].id}/phone", {"phone": "0690 12 34 56"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/contracts/reminders/{campaign}")
    assert "Numéro corrigé" in _text(client.get(plain.headers["Location"]))
    with app.app_context():
        assert db.session.get(Employee, wrong[1].id).mobile_phone == "+590690123456"


def test_the_confirmation_shows_message_encoding_segments_and_cost(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    with app.app_context():
        one = db.session.scalar(select(Employee.id).where(Employee.mobile_phone.is_not(None)).order_by(Employee.id))
    keep = post(client, f"/contracts/reminders/{campaign}/recipients", {"employee": [one]})
    assert keep.status_code == 303 and keep.headers["Location"].endswith(f"/contracts/reminders/{campaign}/confirm")
    page = _text(client.get(keep.headers["Location"]))
    assert "1 SMS sera envoyé" in page
    example = re.search(r"<blockquote>(.*?)</blockquote>", page, re.S).group(1)
    assert example.startswith("Batie Construction : ") and "à signer" in example and "/s/" in example
    encoding = sms_encoding.encoding_of(example)
    assert f"{encoding.name} (" in page
    assert re.search(rf"Segments au total</dt><dd>{encoding.segments}<", page)
    assert str(sms_rules.cost(encoding.segments)).replace(".", ",") in page
    assert "Confirmer envoi relance" in page and "sera envoyée le" not in page


def test_a_campaign_after_hours_is_scheduled_and_says_so_before_confirmation(app, client, auth, batie, monkeypatch):
    monkeypatch.setattr("portal.core.clock.now", lambda: SUNDAY_10H)
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    page = _text(client.get(f"/contracts/reminders/{campaign}/confirm"))
    assert "cette relance sera envoyée le lundi 23 novembre 2026" in page
    post(client, f"/contracts/reminders/{campaign}/confirm")
    with app.app_context():
        confirmed = db.session.get(ReminderCampaign, campaign)
        assert confirmed.scheduled_for == datetime(2026, 11, 23, 7, 0)  # 08:00 Paris, in UTC
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.job == "send_reminders")).all()
        assert jobs and all(job.run_after == confirmed.scheduled_for for job in jobs)
    drain(app)  # not due yet (the machine's clock is before that Monday or the job waits)
    if datetime.now(PARIS) < datetime(2026, 11, 23, 8, 0, tzinfo=PARIS):
        assert _count(app, Message, Message.template == "contract_reminder") == 0


def test_confirming_sends_one_sms_per_employee_exactly_once(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    page = _text(client.get(f"/contracts/reminders/{campaign}/confirm"))
    assert "602 SMS seront envoyés" in page
    response = post(client, f"/contracts/reminders/{campaign}/confirm")
    assert response.status_code == 303 and response.headers["Location"].endswith("/progress")
    again = post(client, f"/contracts/reminders/{campaign}/confirm")  # a double click
    assert again.status_code == 303
    assert _count(app, ReminderRecipient) == 602
    drain(app)
    drain(app)
    with app.app_context():
        messages = db.session.scalars(select(Message).where(Message.template == "contract_reminder")).all()
        assert len(messages) == 602 and len({m.recipient for m in messages}) == 602
        assert all(m.status in ("sent", "delivered") for m in messages)
        several = (
            db.session.scalar(
                select(ReminderRecipient).where(func.json_array_length(ReminderRecipient.contract_ids) > 1).limit(1)
            )
            if db.engine.dialect.name == "sqlite"
            else None
        )
        if several is not None:
            assert "2 contrats à signer" in db.session.get(Message, several.message_id).body_text
        campaign_row = db.session.get(ReminderCampaign, campaign)
        assert campaign_row.recipients_count == 602 and campaign_row.contracts_count == 850  # not the 2 wrong numbers
    # Running every chunk again creates nothing more.
    from portal.contracts import campaigns

    with app.test_request_context():
        with app.app_context():
            ids = db.session.execute(select(func.min(ReminderRecipient.id), func.max(ReminderRecipient.id))).one()
            assert campaigns.send_chunk(campaign, ids[0], ids[1]) == 0
    assert _count(app, Message, Message.template == "contract_reminder") == 602
    progress = _text(client.get(f"/contracts/reminders/{campaign}/progress"))
    assert "Relance terminée" in progress and re.search(r'id="count-sent">602<', progress)


def test_the_development_outbox_reports_each_sms_delivered_a_moment_later(app, client, auth, batie, at_monday):
    """Issue 15, item 18: in the demo "Remis" moves, as with the real gateway's reports."""
    app.config["DEV_SMS_REPORT_SECONDS"] = 0
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)  # the SMS go, and their reports are queued
    drain(app)  # the reports arrive
    progress = _text(client.get(f"/contracts/reminders/{campaign}/progress"))
    assert re.search(r'id="count-delivered">602<', progress) and re.search(r'id="count-sent">602<', progress)
    assert 'hx-trigger="every 2s"' not in progress  # nothing more to wait for
    drain(app)
    with app.app_context():
        assert _count(app, Message, Message.status == "delivered") == 602


def test_the_progress_widget_polls_until_done_and_failures_can_be_retried(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    widget = client.get(f"/contracts/reminders/{campaign}/progress?widget=1", headers=HTMX).get_data(as_text=True)
    assert widget.lstrip().startswith('<div id="progress-widget"') and 'hx-trigger="every 2s"' in widget
    assert re.search(r'id="count-queued">602<', widget)
    drain(app)
    with app.app_context():
        failed = db.session.scalars(
            select(Message).where(Message.template == "contract_reminder").order_by(Message.id).limit(2)
        ).all()
        for message in failed:
            message.status, message.failure_reason = "failed", "Numéro non attribué"
        db.session.commit()
        failed_ids = [m.id for m in failed]
    page = _text(client.get(f"/contracts/reminders/{campaign}/progress"))
    assert re.search(r'id="count-failed">2<', page) and "Numéro non attribué" in page
    assert "Relancer les échecs" in page
    assert post(client, f"/contracts/reminders/{campaign}/retry").status_code == 303
    with app.app_context():
        assert [db.session.get(Message, i).status for i in failed_ids] == ["queued", "queued"]
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxJob)
                .where(OutboxJob.job == "deliver_message", OutboxJob.status == "pending")
            )
            == 2
        )
    drain(app)
    assert _count(app, Message, Message.template == "contract_reminder") == 602


def test_history_lists_campaigns_with_outcome_and_exports_csv(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    page = _text(client.get("/contracts/reminders"))
    row = page.split('id="reminder-history"')[1]
    assert "Sophie Lefèvre" in row and "SMS" in row and "<td>602</td>" in row
    response = client.get("/contracts/reminders.csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Date;Par;Canal;Destinataires;Envoyés;Échecs;Issue inconnue;Segments")
    assert ";Sophie Lefèvre;SMS;602;602;0;0;" in lines[1]
    with app.app_context():
        author = db.session.scalar(select(User).where(User.email == "agence@vigie.test"))
        author.first_name, author.last_name = "+cmd|' /C calc'!A0", "x"
        db.session.commit()
    line = client.get("/contracts/reminders.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()[1]
    assert ";'+cmd|' /C calc'!A0 x;SMS;" in line  # shown as text, never run by the spreadsheet


def test_the_email_dialog_keeps_apart_those_without_a_usable_email(app, client, auth, batie, at_monday):
    auth.login("agence@vigie.test")
    response = _open(client, batie, channel="email")
    page = _text(client.get(response.headers["Location"]))
    assert "Relance par Mail" in page and "604 salariés concernés par 853 contrats non signés" in page
    assert "12 salariés sans adresse e-mail utilisable" in page and "592 e-mails seront envoyés" in page
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.template == "contract_reminder")).first()
        assert message.channel == "email" and message.subject.startswith("Batie Construction : ")
        recipient = db.session.scalar(select(ReminderRecipient).where(ReminderRecipient.message_id == message.id))
        for contract_id in recipient.contract_ids:
            assert db.session.get(Contract, contract_id).reference in message.body_text
        link = re.search(r"(http\S+/s/\S+)", message.body_text).group(1)
    space = client.get(link.replace("http://localhost", ""))
    assert space.status_code == 200 and "à signer" in _text(space)
    assert client.get("/s/not-a-token").status_code == 404


def test_another_agencys_campaigns_and_employees_are_out_of_reach(app, client, auth, batie):
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, "/logout")
    other_company(app, "rival@interim.test", 62000001, is_agency=True, reminders_enabled=True)
    with app.app_context():
        employee = db.session.scalar(select(Employee.id).where(Employee.mobile_phone_raw.is_not(None)))
    auth.login("rival@interim.test")
    assert client.get(f"/contracts/reminders/{campaign}").status_code == 404
    assert client.get(f"/contracts/reminders/{campaign}/confirm").status_code == 404
    assert post(client, f"/contracts/reminders/{campaign}/confirm").status_code == 404
    assert client.get(f"/contracts/reminders/{campaign}/progress").status_code == 404
    assert post(client, f"/contracts/reminders/{campaign}/recipients", {"employee": [1]}).status_code == 404
    assert (
        post(client, f"/contracts/reminders/{campaign}/employees/{employee}/phone", {"phone": "0612345678"}).status_code
        == 404
    )
    assert "Batie" not in _text(client.get("/contracts/reminders"))
    with app.app_context():
        assert db.session.get(ReminderCampaign, campaign).status == "draft"
        assert db.session.get(Employee, employee).mobile_phone is None


def _interrupt_two_messages(app, campaign) -> tuple[int, int]:
    """Send the campaign, then pretend a worker died after claiming two messages (before the
    provider's answer was recorded), and that a third one failed plainly."""
    from portal.contracts import campaigns

    with app.test_request_context():
        first, last = db.session.execute(select(func.min(ReminderRecipient.id), func.max(ReminderRecipient.id))).one()
        campaigns.send_chunk(campaign, first, last)
        messages = db.session.scalars(
            select(Message).where(Message.template == "contract_reminder").order_by(Message.id).limit(3)
        ).all()
        for message in messages[:2]:
            message.status, message.provider_id, message.sent_at = "sending", None, None
        messages[2].status, messages[2].failure_reason = "failed", "Numéro non attribué"
        db.session.commit()
        return messages[0].id, messages[1].id


def test_an_interrupted_delivery_is_never_sent_twice_and_shown_as_issue_inconnue(app, client, auth, batie, at_monday):
    from portal.messaging import notifications

    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    interrupted = _interrupt_two_messages(app, campaign)
    with app.test_request_context():
        for message_id in interrupted:
            notifications.deliver(message_id)  # the job, run again after the crash
        for message_id in interrupted:
            message = db.session.get(Message, message_id)
            # The dev gateway cannot tell what became of it: not resent, kept apart.
            assert message.status == "unknown" and "Issue inconnue" in message.failure_reason
            assert message.provider_id is None and message.attempts == 1
    page = _text(client.get(f"/contracts/reminders/{campaign}/progress"))
    assert 'id="count-unknown">2<' in page and 'id="count-failed">1<' in page
    assert "Issue inconnue" in page and "pourraient les recevoir deux fois" in page
    # "Relancer les échecs" resends the plain failure only.
    post(client, f"/contracts/reminders/{campaign}/retry")
    with app.app_context():
        retried = db.session.scalars(
            select(OutboxJob.args).where(OutboxJob.job == "deliver_message", OutboxJob.status == "pending")
        ).all()
        assert len(retried) == 1 and retried[0]["message_id"] not in interrupted
        assert {db.session.get(Message, i).status for i in interrupted} == {"unknown"}
    # Ticked explicitly, with the risk said: they go again, and the audit says it was a risk taken.
    post(client, f"/contracts/reminders/{campaign}/retry", {"include_unknown": "1"})
    with app.app_context():
        assert {db.session.get(Message, i).status for i in interrupted} == {"queued"}
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.retried")).all()
        assert sum(1 for e in events if e.details.get("outcome_was_unknown")) == 2


def test_failures_retried_outside_the_sms_hours_wait_for_the_opening(app, client, auth, batie, monkeypatch):
    monkeypatch.setattr("portal.core.clock.now", lambda: MONDAY_10H)
    auth.login("agence@vigie.test")
    _open(client, batie)
    campaign = _campaign_id(app)
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.template == "contract_reminder")).first()
        message.status, message.failure_reason = "failed", "Numéro non attribué"
        db.session.commit()
        failed_id = message.id
    monkeypatch.setattr("portal.core.clock.now", lambda: SUNDAY_10H)
    post(client, f"/contracts/reminders/{campaign}/retry")
    with app.app_context():
        job = db.session.scalar(
            select(OutboxJob).where(OutboxJob.job == "deliver_message", OutboxJob.status == "pending")
        )
        assert job.args == {"message_id": failed_id}
        assert job.run_after == datetime(2026, 11, 23, 7, 0)  # Monday 08:00 Paris, in UTC


def _page_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="shown" value="(\d+)"', page)]


def _checked_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="checked" value="(\d+)" form="reminder-form" checked', page)]


def test_the_selection_is_kept_across_pages_reloads_and_actions(app, client, auth, batie):
    """Issue 15, item 13: the table, the count and the dialog show one selection."""
    employment = batie["typologies"]["employment"]
    auth.login("agence@vigie.test")
    first = _text(client.get(f"/contracts?typology={employment}"))
    total = int(re.search(r"Les (\d+) contrats du filtre sont sélectionnés", first)[1])
    shown = _page_ids(first)
    assert len(shown) == 50 and _checked_ids(first) == shown
    dropped = shown[:2]
    response = post(
        client,
        "/contracts/selection",
        {"typology": employment, "shown": shown, "checked": shown[2:]},
        headers=HTMX,
    )
    assert f"{total - 2} contrats sélectionnés" in _text(response) and f"sur {total} du filtre" in _text(response)
    # Another page, then back, then a reload: the same choice everywhere.
    second = _text(client.get(f"/contracts?typology={employment}&page=2"))
    assert f"{total - 2} contrats sélectionnés" in second and _checked_ids(second) == _page_ids(second)
    again = _text(client.get(f"/contracts?typology={employment}"))
    assert set(_page_ids(again)) - set(_checked_ids(again)) == set(dropped)
    # "Définir signé" on a selected contract: both counts follow.
    signed = client.post(
        f"/contracts/{shown[5]}/sign/paper?typology={employment}",
        data={"csrf_token": token_for(client, "/contracts")},
        headers=HTMX,
    )
    assert f"{total - 3} contrats sélectionnés" in _text(signed) and f"sur {total - 1} du filtre" in _text(signed)
    # The dialog opened from page 2 leaves out what was unchecked on page 1.
    page_two = _page_ids(second)
    response = _open(client, batie, shown=page_two, checked=page_two)
    with app.app_context():
        assert db.session.scalar(
            select(ReminderCampaign.excluded_contract_ids).order_by(ReminderCampaign.id.desc())
        ) == sorted(dropped)
    # A new filter starts a new selection.
    other = _text(client.get(f"/contracts?typology={employment}&q=a"))
    assert "contrats du filtre sont sélectionnés" in other


def test_the_selection_without_javascript_is_saved_by_a_button(app, client, auth, batie):
    employment = batie["typologies"]["employment"]
    auth.login("agence@vigie.test")
    page = _text(client.get(f"/contracts?typology={employment}"))
    assert "Enregistrer la sélection" in page
    shown = _page_ids(page)
    response = post(client, "/contracts/selection", {"typology": employment, "shown": shown, "checked": shown[1:]})
    assert response.status_code == 303 and f"typology={employment}" in response.headers["Location"]
    reloaded = _text(client.get(response.headers["Location"]))
    assert "Sélection enregistrée." in reloaded and shown[0] not in _checked_ids(reloaded)
    # Another agency's contract ids are ignored, whatever is posted.
    with app.app_context():
        foreign = other_company(app, "rival@vigie.test", 77, is_agency=True)
    post(client, "/contracts/selection", {"typology": employment, "shown": [foreign, 10**12], "checked": []})


def test_the_email_confirmation_shows_the_exact_email_the_employee_reads(app, client, auth, batie, at_monday):
    """Issue 15, item 14: as for SMS, the confirmation shows the message itself."""
    auth.login("agence@vigie.test")
    _open(client, batie, channel="email")
    campaign = _campaign_id(app)
    page = _text(client.get(f"/contracts/reminders/{campaign}/confirm"))
    figure = page[page.index('id="email-preview"') : page.index("</figure>", page.index('id="email-preview"'))]
    name = re.search(r"E-mail envoyé à ([^(]+) \(", figure)[1].strip()
    subject = re.search(r"<strong>Objet :</strong> ([^<]+)</p>", figure)[1].strip()
    body = re.search(r'<pre class="email-body">(.*?)</pre>', figure, re.S)[1]
    assert subject.startswith("Batie Construction : ") and "à signer" in subject
    assert "Voir vos contrats à signer : http" in body
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    with app.app_context():
        first, last = name.split(" ", 1)[0], name.split(" ", 1)[-1]
        employee = db.session.scalar(select(Employee).where(Employee.first_name == first, Employee.last_name == last))
        sent = db.session.scalar(
            select(Message).where(Message.template == "contract_reminder", Message.recipient == employee.email)
        )
    assert sent.subject == subject
    # The link is the employee's own; the rest of the text is word for word the preview.
    strip = lambda text: re.sub(r"http\S+", "<lien>", text).strip()  # noqa: E731
    assert strip(sent.body_text) == strip(body)
