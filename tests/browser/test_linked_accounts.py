"""Linked accounts in Chromium: the agency links Demolitor under Constructor, whose owner accepts the
group, then reads Demolitor's documents from the left menu of "Accès aux documents"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_agency_links_demolitor_under_constructor_whose_owner_accepts_and_reads(page, check):
    log_in(page, "agence@vigie.test")
    page.get_by_role("link", name="Mes clients").click()
    page.locator("#client-sheets").get_by_role("link", name="Demolitor SAS").click()
    page.get_by_label("Adresse e-mail du contact").fill("constructor@vigie.test")
    page.get_by_role("button", name="Enregistrer").click()
    proposal = page.locator("#link-proposal")
    expect(proposal).to_contain_text("Constructor SA")
    expect(page.locator("#flash-area")).to_contain_text("vous pouvez rattacher ces comptes")

    proposal.get_by_role("link", name="Rattacher").click()
    dialog = page.locator("#link-dialog")
    expect(dialog).to_be_visible()
    summary = dialog.locator("#link-summary")
    expect(summary.locator("tbody tr").first).to_contain_text("Constructor SA")
    expect(summary.locator("tbody tr").first).to_contain_text("Compte principal")
    # Picking Demolitor as main redraws the summary in place; back to Constructor.
    dialog.get_by_label("Compte principal").select_option(label="Demolitor SAS")
    expect(summary.locator("tbody tr").first).to_contain_text("Demolitor SAS")
    dialog.get_by_label("Compte principal").select_option(label="Constructor SA")
    expect(summary.locator("tbody tr").nth(1)).to_contain_text("Demolitor SAS")
    expect(summary.locator("tbody tr").nth(1)).to_contain_text("Compte rattaché")
    check.accessible(page)
    check.screenshot(page, "link-accounts-dialog")
    dialog.get_by_role("button", name="Valider rattachement").click()
    expect(page.locator("#flash-area")).to_contain_text("Demande de rattachement envoyée au compte principal")
    expect(page.locator("#client-sheets")).to_contain_text("en attente d'acceptation")
    log_out(page)

    log_in(page, "constructor@vigie.test")
    tab = page.locator("#pending-partners")
    expect(tab.locator("#pending-partners-count")).to_have_text("2")
    tab.get_by_role("button", name="Accepter le rattachement proposé par Batie Construction").click()
    confirm = tab.locator(".request-row.confirm")
    expect(confirm).to_contain_text("Rattacher ces comptes à Constructor SA ?")
    check.accessible(page)
    confirm.get_by_role("button", name="Accepter groupe").click()
    expect(tab).to_contain_text("Rattachement accepté : Demolitor SAS est rattaché à votre compte.")
    # Now linked, Demolitor's own pending request is answered from here too (issue 15, item 10).
    expect(tab.locator("#pending-partners-count")).to_have_text("2")
    expect(tab).to_contain_text("demande à voir le dossier de vigilance de Demolitor SAS, compte rattaché au vôtre")
    expect(tab).to_contain_text("Constructor SA verra en retour le dossier de Batie Construction.")
    check.accessible(page)
    check.screenshot(page, "partners-to-confirm-linked")
    tab.get_by_role("button", name="Accepter Batie Construction", exact=True).click()
    expect(tab.locator("#pending-partners-count")).to_have_text("1")
    tab.get_by_role("button", name="Accepter Batie Construction — Demolitor SAS").click()
    expect(tab.locator("#pending-partners-count")).to_have_text("0")

    page.get_by_role("link", name="Mes partenaires").click()
    expect(page.locator("#partners")).to_contain_text("Batie Construction")
    expect(page.locator("#linked-partners")).to_contain_text("Demolitor SAS")
    # Accepting gave access both ways: Batie keeps its own file, Constructor reads it (item 9).
    page.locator("#partners").get_by_role("link", name="Batie Construction").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batie Construction")
    expect(page.locator("tr", has_text="Extrait Kbis").locator(".state-label")).to_have_text("Valide")
    check.accessible(page)
    page.go_back()

    page.get_by_role("link", name="Accès aux documents").click()
    menu = page.locator("#linked-accounts")
    expect(menu.get_by_role("link")).to_have_text(["Demolitor SAS"])
    menu.get_by_role("link", name="Demolitor SAS").click()
    view = page.locator("#linked-account")
    expect(view).to_contain_text("Documents de Demolitor SAS")
    expect(view).to_contain_text("Extrait Kbis")
    expect(view).to_contain_text("Menuiserie Martin")
    expect(page).to_have_url(re.compile(r"/linked/documents/\d+$"))
    check.accessible(page)
    check.screenshot(page, "linked-documents")
    with page.expect_download() as download_info:
        view.locator("table").first.get_by_role("link", name=re.compile("Télécharger Extrait Kbis")).click()
    assert download_info.value.suggested_filename.endswith(".pdf")
