"""Accounting firms in Chromium: add a client through the eight steps and see its monthly folders;
the executive accepts his invitation and uploads; a bulk import with two bad rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.core.extensions import db
from tests.support.browser import log_in, log_out, settled
from tests.support.documents import pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def durand(live_server):
    from portal.demo.firm import seed_durand

    with live_server[1].app_context():
        seed_durand()
        db.session.remove()


def test_add_a_client_from_a_siret_through_the_eight_steps(page, check, durand):
    log_in(page, "cabinet@vigie.test")
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    page.get_by_role("link", name="Ajouter un client").click()
    wizard = page.locator("#wizard")
    page.wait_for_load_state()
    wizard.get_by_label("SIRET").fill("50100001200127")
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    expect(wizard).to_contain_text("Entreprise trouvée")
    expect(wizard.get_by_label("Raison sociale")).to_have_value("BOULANGERIE PETIT")
    expect(page).to_have_url(re.compile(r"/firm/clients/new/2$"))
    check.accessible(page)
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    expect(wizard.locator("#step-title")).to_contain_text("Exercice")
    settled(page)  # htmx wires the swapped-in step while settling: a change before that is lost
    wizard.get_by_label("Date de début d'exercice").fill("2025-07-01")
    wizard.get_by_label("Date de début d'exercice").dispatch_event("change")
    expect(wizard.get_by_label("Date de fin d'exercice")).to_have_value("2026-06-30")
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    wizard.get_by_label("Arborescence standard").check()
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    wizard.get_by_label("Adresse e-mail du dirigeant").fill("pas-une-adresse")
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    expect(wizard.locator("#email-error")).to_be_visible()
    wizard.get_by_label("Adresse e-mail du dirigeant").fill("chef@boulangerie-petit.test")
    wizard.get_by_label("Nom", exact=True).fill("Petit")
    wizard.get_by_label("Prénom").fill("Jean")
    wizard.get_by_label("Social").uncheck()
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    app = wizard.locator("fieldset", has_text="impots.gouv")
    app.get_by_label("Autoriser l'accès").check()
    app.get_by_label("Afficher sur l'accueil du dirigeant").check()
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    wizard.get_by_label("Emma Garnier").check()
    wizard.get_by_role("button", name="Continuer", exact=True).click()
    summary = wizard.locator("#summary")
    expect(summary).to_contain_text("BOULANGERIE PETIT")
    expect(summary).to_contain_text("Emma Garnier")
    expect(summary).not_to_contain_text("Social")
    check.screenshot(page, "firm-add-client-summary")
    wizard.get_by_role("button", name="Sauvegarder").click()
    expect(page.locator("h1")).to_have_text("BOULANGERIE PETIT")
    # The in-process worker builds the tree; the widget polls until the folders appear.
    tree = page.locator("[id^=tree-]")
    expect(tree.get_by_role("link", name="Achats")).to_be_visible(timeout=20_000)
    check.accessible(page)
    # Item 23: the company card shows INSEE's label, the address once, whole identifiers (even narrow).
    expect(page.locator("#file-legal-form")).to_have_text("Société à responsabilité limitée (SARL)")
    expect(page.locator("#file-siret")).to_have_text("501 000 012 00127")
    check.screenshot(page, "firm-client-card")
    page.set_viewport_size({"width": 360, "height": 800})
    for identifier in ("#file-siret", "#file-vat", "#file-address"):
        box = page.locator(identifier).evaluate("e => [e.scrollWidth, e.clientWidth, e.closest('.card').clientWidth]")
        assert box[0] <= box[1] <= box[2], (identifier, box)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    expect(page.locator("#client-files")).to_contain_text("BOULANGERIE PETIT")
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_role("navigation", name="Dossiers clients").get_by_role("link", name="BOULANGERIE PETIT").click()
    achats = page.locator("li:has(> a:text-is('Achats'))")
    expect(achats.locator("summary").first).to_contain_text("1 sous-répertoire")
    achats.locator("summary").first.click()
    year = achats.locator("li:has(> a:text-is('Exercice 01/07/2025 – 30/06/2026'))")
    year.locator("summary").first.click()
    expect(year.get_by_role("link", name="Juin 2026")).to_be_visible()
    expect(year.get_by_role("link", name=re.compile(r"\w"))).to_have_count(1 + 12)
    check.screenshot(page, "firm-documents-tree")
    year.get_by_role("link", name="Juin 2026").click()
    path = page.get_by_role("navigation", name="Fil d'Ariane")
    crumbs = r"BOULANGERIE PETIT\s*Comptabilité\s*Achats\s*Exercice 01/07/2025.*Juin 2026"
    expect(path).to_have_text(re.compile(crumbs, re.S))
    check.accessible(page)
    check.screenshot(page, "firm-folder-path")
    path.get_by_role("link", name="Achats").click()
    expect(page.locator("h1")).to_have_text("Achats")


def test_the_executive_accepts_uploads_and_the_firm_sees_the_new_document(page, check, durand, live_server):
    from portal.models import Message

    log_in(page, "cabinet@vigie.test")
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    page.get_by_role("link", name="Garage Morel").click()
    page.get_by_role("button", name="Renvoyer l'invitation").click()
    expect(page.locator("#flash-area")).to_contain_text("Invitation envoyée à paul.morel@garage-morel.test")
    log_out(page)
    with live_server[1].app_context():
        message = db.session.scalars(
            select(Message).where(Message.recipient == "paul.morel@garage-morel.test").order_by(Message.id.desc())
        ).first()
        link = re.search(r"http://\S+(/invitation/\S+)", message.body_text).group(1)
        db.session.remove()
    page.goto(page.base_url + link)
    page.get_by_label("Nouveau mot de passe").fill("un-mot-de-passe-solide")
    page.get_by_label("Confirmez le mot de passe").fill("un-mot-de-passe-solide")
    page.get_by_role("button", name="Créer mon accès").click()
    expect(page.locator("h1")).to_contain_text("Cabinet Durand")
    expect(page.get_by_role("link", name="Travail du cabinet")).to_have_count(0)
    check.accessible(page)
    page.get_by_role("link", name="Statuts").click()
    page.get_by_label("Document (PDF, JPEG ou PNG, 10 Mo au plus)").set_input_files(
        {"name": "statuts-garage.pdf", "mimeType": "application/pdf", "buffer": pdf()}
    )
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator("#flash-area")).to_contain_text("Document envoyé à votre cabinet.")
    expect(page.locator("#folder-documents")).to_contain_text("statuts-garage.pdf")
    log_out(page)

    log_in(page, "cabinet@vigie.test")
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    row = page.locator("#client-files tr", has_text="Garage Morel")
    expect(row).to_contain_text("1 nouveau")
    row.get_by_role("link", name="Garage Morel").click()
    expect(page.locator("#new-uploads")).to_have_text("1")
    page.get_by_role("link", name="Statuts").click()
    expect(page.locator("#folder-documents tr", has_text="statuts-garage.pdf")).to_contain_text("Nouveau")


def test_bulk_import_with_two_bad_rows(page, check, durand, tmp_path):
    csv = tmp_path / "clients.csv"
    csv.write_text(
        "siret;raison_sociale;debut_exercice;fin_exercice;email_dirigeant;nom_dirigeant;prenom_dirigeant;"
        "collaborateurs;arborescence\n"
        "50100001200127;Boulangerie Petit;01/01/2026;;;;;;\n"
        "12345678901234;SIRET faux;01/01/2026;;;;;;\n"
        "50107920600121;Garage Lefort;01/07/2025;;;;;collaborateur@vigie.test;\n"
        "50115839800120;Pharmacie du Centre;31/02/2026;;;;;;\n"
        "50123758000128;Atelier Bois;01/10/2025;30/09/2026;atelier@bois.test;Bois;Anne;;Arborescence simplifiée\n",
        encoding="utf-8",
    )
    log_in(page, "cabinet@vigie.test")
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    page.get_by_role("link", name="Import massif").click()
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(str(csv))
    page.get_by_role("button", name="Prévisualiser").click()
    errors = page.locator("#import-errors")
    expect(errors.locator("#line-3")).to_contain_text("SIRET invalide")
    expect(errors.locator("#line-5")).to_contain_text("Date de début invalide")
    expect(page.locator("#invalid-count")).to_have_text("2")
    check.accessible(page)
    check.screenshot(page, "firm-import-preview")
    page.get_by_role("button", name="Importer les 3 lignes valides").click()
    expect(page.locator("#import-done")).to_contain_text("3 dossiers créés", timeout=20_000)
    expect(page.locator("#import-valid")).not_to_contain_text("Sera créé")  # the rows follow the run
    expect(page.locator("#import-valid").get_by_role("link", name="Créé")).to_have_count(3)
    expect(page.locator("#import-valid")).to_contain_text("Arborescence simplifiée")
    expect(page.locator("#import-resume")).to_have_count(0)
    page.get_by_role("link", name="Dossiers clients", exact=True).click()
    expect(page.locator("#client-files")).to_contain_text("Atelier Bois")
    expect(page.locator("#client-files")).not_to_contain_text("SIRET faux")
