"""Item 30 of issue 15 in Chromium: the supplier's and the client's homes lead with their work; the
client's charts are drawn without JavaScript and each figure opens the filtered dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.core.extensions import db
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def crowd(live_server):
    from portal.demo.documents import seed_constructor_suppliers
    from portal.demo.history import seed_compliance_history

    with live_server[1].app_context():
        seed_constructor_suppliers()
        seed_compliance_history()
        db.session.remove()


def test_the_supplier_home_leads_to_the_documents_to_update(page, check):
    log_in(page, "fournisseur@vigie.test")
    home = page.locator("#home-supplier")
    expect(home).to_contain_text("Votre dossier de vigilance")
    expect(home.locator("#figure-next-expiry")).to_contain_text("Extrait Kbis")
    check.accessible(page)
    check.screenshot(page, "home-supplier")
    home.locator("#figure-to-update").click()
    expect(page).to_have_url(re.compile(r"/documents$"))
    expect(page.locator(".pending-item").first).to_be_visible()


def test_the_client_home_charts_its_suppliers_and_opens_the_filtered_dashboard(page, check, crowd):
    log_in(page, "constructor@vigie.test")
    home = page.locator("#home-client")
    expect(home.locator("svg.share-bar rect")).not_to_have_count(0)
    expect(home.locator("#compliance-rate svg rect.bar")).to_have_count(12)
    # The text equivalent: every month's figure in a table.
    home.get_by_text("Voir les chiffres").click()
    expect(home.locator("#compliance-rate-table tbody tr")).to_have_count(12)
    check.accessible(page)
    check.screenshot(page, "home-client")
    expired = home.locator("#suppliers-by-status-expired")
    count = int(expired.locator("strong").inner_text())
    expired.click()
    expect(page).to_have_url(re.compile(r"/partners/compliance\?status=expired$"))
    expect(page.locator("#status-filter")).to_have_value("expired")
    expect(page.locator("tr[id^=supplier-]")).to_have_count(count)


def test_the_home_works_without_javascript(browser, live_server, check, crowd):
    """Charts are SVG from the server: a browser without JavaScript sees the same figures."""
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    page.base_url = live_server[0]
    log_in(page, "constructor@vigie.test")
    expect(page.locator("#compliance-rate svg rect.bar")).to_have_count(12)
    expect(page.locator("#suppliers-by-status")).to_contain_text("Conforme")
    context.close()
