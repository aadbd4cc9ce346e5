"""Compliance-file journeys in Chromium: update a refused document, refuse one, check a quitus."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from portal.core.clock import today
from tests.support.browser import log_in, log_out
from tests.support.documents import pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_supplier_updates_the_refused_lnte_and_the_badge_drops(page, check):
    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Mes documents").click()
    badge = page.locator("#pending-count")
    expect(badge).to_have_text("3")
    item = page.locator("#pending-LNTE")
    expect(item.locator(".refusal")).to_contain_text("Document illisible")
    check.accessible(page)
    check.screenshot(page, "documents-pending")

    item.get_by_role("link", name="Mettre à jour").click()
    form = page.locator("#pending-LNTE form")
    expect(form).to_be_visible()
    assert page.url.endswith("/documents")  # opened in place, no navigation
    form.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)").set_input_files(
        files=[{"name": "lnte.pdf", "mimeType": "application/pdf", "buffer": pdf()}]
    )
    form.get_by_label("Date du document").fill((today() - timedelta(days=1)).isoformat())
    check.accessible(page)
    check.screenshot(page, "documents-update")
    form.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator("#pending-LNTE")).to_contain_text("En cours de vérification")
    expect(badge).to_have_text("2")
    page.reload()
    expect(page.locator("#pending-count")).to_have_text("2")
    expect(page.locator("#pending-LNTE")).to_have_count(0)


def test_operator_refuses_and_the_supplier_reads_the_red_reason(page, check):
    log_in(page, "operateur@vigie.test")
    page.get_by_role("link", name="Vérifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents à vérifier")
    check.accessible(page)
    check.screenshot(page, "review-queue")
    page.locator("#review-queue").get_by_role("link", name=re.compile("Examiner.*mutuelle")).click()
    expect(page.locator(".review-preview img").first).to_be_visible()
    check.accessible(page)
    check.screenshot(page, "review-item")
    decision = page.locator("#decision")
    decision.get_by_role("button", name="Refuser").click()
    expect(page.locator("#decision")).to_contain_text("Choisissez un motif de refus dans la liste.")
    page.locator("#decision").get_by_label("Motif du refus").select_option(label="Pages manquantes")
    page.locator("#decision").get_by_label("Commentaire pour le fournisseur (facultatif)").fill("Il manque la page 2.")
    page.locator("#decision").get_by_role("button", name="Refuser").click()
    expect(page.locator("#flash-area")).to_contain_text("refusé")
    expect(page.locator("#review-queue")).not_to_contain_text("mutuelle")
    log_out(page)

    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Mes documents").click()
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    reason = page.locator("#online-MUTUELLE .refusal")
    expect(reason).to_contain_text("Pages manquantes — Il manque la page 2.")
    assert reason.evaluate("el => getComputedStyle(el).color") == "rgb(185, 28, 28)"
    check.accessible(page)
    check.screenshot(page, "documents-online")


def test_supplier_downloads_the_quitus_and_the_public_page_confirms_it(page, check):
    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Mes documents").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("quitus").click()
    download = download_info.value
    assert download.suggested_filename.startswith("quitus-812345676-")
    text = " ".join(PdfReader(io.BytesIO(open(download.path(), "rb").read())).pages[0].extract_text().split())
    code = re.search(r"Code de vérification : ([A-Z0-9-]+)", text).group(1)
    log_out(page)
    page.goto(page.base_url + "/verifier")
    page.get_by_label("Code de vérification du quitus").fill(code)
    page.get_by_role("button", name="Vérifier").click()
    expect(page.locator(".verdict")).to_have_text("✓ Quitus authentique et toujours à jour.")
    expect(page.locator("#verification")).to_contain_text("Menuiserie Martin")
    check.accessible(page)
    check.screenshot(page, "quitus-verified")
