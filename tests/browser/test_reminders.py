"""The SMS reminder wizard in Chromium: filter on "Contrat de travail", open the SMS dialog, fix a
wrong number, confirm, and watch the dialog reach its final counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def open_hours(monkeypatch, request):
    """A Monday morning, inside the SMS sending hours, whatever the machine's clock says; Batie's
    contracts of that month are seeded once the clock is there."""
    monkeypatch.setattr("portal.core.clock.now", lambda: datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Paris")))
    request.getfixturevalue("batie_contracts")


def test_sms_wizard_from_filter_to_final_counts(page, check, open_hours):
    log_in(page, "agence@vigie.test")
    page.get_by_role("link", name="Gérer les contrats").click()
    zone = page.locator("#reminder-form")
    expect(zone.get_by_label("Relancer par Mail ou SMS")).to_be_disabled()
    page.wait_for_load_state()  # htmx (deferred) listens before the filter changes
    page.get_by_label("Filtrer par typologie").select_option(label="Contrat de travail")
    expect(page.locator("#contract-counts")).to_contain_text("853 contrats")
    expect(zone.get_by_label("Relancer par Mail ou SMS")).to_be_enabled()
    zone.get_by_label("Relancer par Mail ou SMS").select_option("sms")

    dialog = page.locator("#reminder-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#campaign-summary")).to_have_text("604 salariés concernés par 853 contrats non signés")
    expect(dialog.locator("#wrong-numbers")).to_contain_text("2 numéros erronés")
    expect(dialog.locator("#recipients-count")).to_have_text("602 SMS seront envoyés")
    check.accessible(page)
    check.screenshot(page, "sms-wizard", full_page=False)

    fix = dialog.locator(".phone-fix").first
    fix.get_by_role("textbox").fill("0700 00 00 00")
    fix.get_by_role("button").click()
    expect(dialog.locator(".field-error")).to_contain_text("n'est pas un mobile français valide")
    dialog.locator(".phone-fix").first.get_by_role("textbox").fill("06 98 76 54 32")
    dialog.locator(".phone-fix").first.get_by_role("button").click()
    expect(dialog.locator("#wrong-numbers")).to_contain_text("1 numéro erroné")
    expect(dialog.locator("#recipients-count")).to_have_text("603 SMS seront envoyés")
    dialog.locator("#recipients-form input[type=checkbox]").first.uncheck()
    expect(dialog.locator("#recipients-count")).to_have_text("602 SMS seront envoyés")

    dialog.get_by_role("button", name="Relancer ces salariés").click()
    expect(dialog).to_contain_text("602 SMS seront envoyés")
    expect(dialog.locator("#sms-facts")).to_contain_text("GSM-7")
    expect(dialog.locator("#sms-facts")).to_contain_text("€")
    check.screenshot(page, "sms-confirm", full_page=False)
    dialog.get_by_role("button", name="Confirmer envoi relance").click()
    expect(dialog.locator("#progress-widget")).to_contain_text("Relance terminée", timeout=30_000)
    expect(dialog.locator("#count-sent")).to_have_text("602")
    expect(dialog.locator("#count-queued")).to_have_text("0")


def test_unchecked_contracts_stay_unchecked_across_pages_and_reloads(page, check, open_hours):
    """Issue 15, item 13: one selection for the table, the count and the dialog."""
    log_in(page, "agence@vigie.test")
    page.get_by_role("link", name="Gérer les contrats").click()
    page.wait_for_load_state()
    page.get_by_label("Filtrer par typologie").select_option(label="Contrat de travail")
    count = page.locator("#selection-count")
    expect(count).to_contain_text("Les 853 contrats du filtre sont sélectionnés")
    boxes = page.locator("#contracts-table input[name=checked]")
    first, second = boxes.nth(0), boxes.nth(1)
    first_id, second_id = first.get_attribute("value"), second.get_attribute("value")
    first.uncheck()
    expect(count).to_contain_text("852 contrats sélectionnés sur 853")
    second.uncheck()
    expect(count).to_contain_text("851 contrats sélectionnés sur 853")
    check.accessible(page)
    check.screenshot(page, "contracts-selection")
    page.get_by_role("link", name="Suivant").first.click()
    expect(page.locator("#selection-count")).to_contain_text("851 contrats sélectionnés sur 853")
    page.go_back()
    page.reload()
    expect(page.locator(f"#contracts-table input[name=checked][value='{first_id}']")).not_to_be_checked()
    expect(page.locator(f"#contracts-table input[name=checked][value='{second_id}']")).not_to_be_checked()
    expect(page.locator("#selection-count")).to_contain_text("851 contrats sélectionnés sur 853")
    page.locator("#reminder-form").get_by_label("Relancer par Mail ou SMS").select_option("sms")
    dialog = page.locator("#reminder-dialog")
    expect(dialog.locator("#campaign-summary")).to_contain_text("par 851 contrats non signés")


def test_email_reminder_shows_the_email_then_the_employee_signs_online(page, check, open_hours, live_server):
    """Issue 15, items 14 and 15: the confirmation shows the email as sent; its link leads to the
    employee's contracts, each with where to sign it."""
    log_in(page, "agence@vigie.test")
    page.get_by_role("link", name="Gérer les contrats").click()
    page.wait_for_load_state()
    page.get_by_label("Filtrer par typologie").select_option(label="Contrat de travail")
    page.locator("#reminder-form").get_by_label("Relancer par Mail ou SMS").select_option("email")
    dialog = page.locator("#reminder-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Relancer ces salariés").click()
    preview = dialog.locator("#email-preview")
    expect(preview.locator(".email-subject")).to_contain_text("Objet : Batie Construction : ")
    expect(preview.locator(".email-body")).to_contain_text("Voir vos contrats à signer : http")
    check.accessible(page)
    check.screenshot(page, "email-confirm", full_page=False)

    # An employee with an electronic contract opens his space from the reminder's link.
    from portal.contracts.reminder_wizard import space_link
    from portal.contracts.signature_sync import simulator
    from portal.core.extensions import db
    from portal.models import Contract, Employee
    from portal.models.contracts import AWAITING

    base, app = live_server
    with app.test_request_context():
        contract = db.session.scalars(
            db.select(Contract)
            .where(Contract.status == AWAITING, Contract.esign_request_id.is_not(None))
            .order_by(Contract.id)
        ).first()
        simulator().set(contract.esign_request_id, "ongoing")
        link = space_link(db.session.get(Employee, contract.employee_id)).replace("http://localhost", base)
        reference = contract.reference
        db.session.remove()
    page.goto(link)
    row = page.locator(f"#employee-contract-{contract.id}")
    row.get_by_role("link", name=f"Signer en ligne {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Signer le contrat {reference}")
    check.accessible(page)
    page.get_by_role("button", name="Signer").click()
    expect(page.locator("#flash-area")).to_contain_text(f"Contrat {reference} signé. Merci !")
    expect(page.locator(f"#employee-contract-{contract.id}")).to_have_count(0)
    check.accessible(page)
