"""Partner journey in Chromium: the supplier accepts a request in place, the client then reads its file."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_martin_accepts_constructor_which_then_sees_its_documents(page, check):
    log_in(page, "fournisseur@vigie.test")
    tab = page.locator("#pending-partners")
    expect(tab.locator("#pending-partners-count")).to_have_text("1")
    expect(tab).to_contain_text("Constructor SA")
    check.accessible(page)
    check.screenshot(page, "partners-to-confirm")
    tab.get_by_role("button", name="Accepter Constructor SA").click()
    expect(tab).to_contain_text("Vous avez accepté la demande de Constructor SA.")
    expect(tab.locator("#pending-partners-count")).to_have_text("0")
    page.get_by_role("link", name="Mes partenaires").click()
    expect(page.locator("#partners")).to_contain_text("Constructor SA")
    expect(page.locator("#partners")).to_contain_text("Paul Martin")
    log_out(page)

    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").click()
    page.locator("#partners").get_by_role("link", name="Menuiserie Martin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Menuiserie Martin")
    table = page.locator("#partner-documents")
    expect(table.locator("#partner-doc-LNTE")).to_contain_text("Document illisible")
    expect(table.locator("#partner-doc-RC_PRO")).to_contain_text("Valide")
    check.accessible(page)
    check.screenshot(page, "partner-documents")
    with page.expect_download() as download_info:
        table.locator("#partner-doc-RC_PRO").get_by_role("link", name="Télécharger").click()
    assert download_info.value.suggested_filename.endswith(".pdf")


def test_client_filters_its_compliance_dashboard(page, check):
    log_in(page, "fournisseur@vigie.test")
    page.locator("#pending-partners").get_by_role("button", name="Accepter Constructor SA").click()
    expect(page.locator("#pending-partners-count")).to_have_text("0")
    log_out(page)
    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").click()
    page.get_by_role("link", name="Conformité de mes fournisseurs").click()
    table = page.locator("#compliance-table")
    expect(table).to_contain_text("Menuiserie Martin")
    page.wait_for_load_state()  # htmx (deferred) listens before the filter changes
    page.get_by_label("Statut").select_option("compliant")
    expect(table).to_contain_text("Aucun fournisseur ne correspond.")
    page.get_by_label("Statut").select_option("expired")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Expiré")
    assert "status=expired" in page.url
    check.accessible(page)
    check.screenshot(page, "supplier-compliance")
