"""Contracts in Chromium: filter on "Contrat de travail", mark one "Définir signé en agence", see it leave."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_agency_marks_a_contract_signed_at_the_agency_and_it_leaves_the_list(page, check, batie_contracts):
    log_in(page, "agence@vigie.test")
    page.get_by_role("link", name="Gérer les contrats").click()
    page.wait_for_load_state()  # htmx (deferred) listens before the filter changes
    page.get_by_label("Filtrer par typologie").select_option(label="Contrat de travail")
    counts = page.locator("#contract-counts")
    expect(counts).to_contain_text("853 contrats en attente de signature")
    expect(page).to_have_url(re.compile(r"typology=\d+"))
    check.accessible(page)
    check.screenshot(page, "contracts", full_page=False)
    first = page.locator("#contracts-table tbody tr").first
    reference = first.locator("td .muted").first.inner_text()
    first.get_by_role("button", name=f"Définir signé en agence {reference}").click()
    expect(counts).to_contain_text("852 contrats en attente de signature")
    # The row says what was done, with "Annuler" right there (issue 15, item 17).
    done = page.locator("#contracts-table tr.just-signed")
    expect(done).to_contain_text(f"Contrat {reference} défini signé en agence.")
    check.accessible(page)
    done.get_by_role("button", name=re.compile("^Annuler")).click()
    expect(page.locator("#flash-area")).to_contain_text(f"Contrat {reference} remis en attente de signature.")
    expect(page.locator("#contract-counts")).to_contain_text("853 contrats en attente de signature")
    expect(page.locator("#contracts-table")).to_contain_text(reference)
