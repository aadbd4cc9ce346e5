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
    expect(page.locator("#flash-area")).to_contain_text("Document refusé : Attestation mutuelle / prévoyance")
    # The next document of the queue opens at once.
    expect(page.get_by_role("heading", level=1)).to_contain_text("régularité fiscale")
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


def test_a_refused_renewal_never_hides_the_valid_rc_pro(page, check, live_server):
    """Issue 15, item 1: the supplier sends a new RC Pro, the operator refuses it; the supplier,
    and the partner, still read "Valide" (the refusal is a line under it, for the supplier)."""
    log_in(page, "fournisseur@vigie.test")
    page.locator("#pending-partners").get_by_role("button", name=re.compile("^Accepter")).first.click()
    expect(page.locator("#pending-partners-count")).to_have_text("0")
    page.get_by_role("link", name="Mes documents").click()
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    page.locator("#online-RC_PRO").get_by_role("link", name=re.compile("Mettre à jour")).click()
    form = page.locator("form.upload-form")
    form.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)").set_input_files(
        files=[{"name": "rc-pro-2027.pdf", "mimeType": "application/pdf", "buffer": pdf("RC_PRO")}]
    )
    form.get_by_label("Date du document").fill((today() - timedelta(days=1)).isoformat())
    form.get_by_label("Fin de validité imprimée").fill((today() + timedelta(days=364)).isoformat())
    form.get_by_role("button", name="Envoyer le document").click()
    sent = page.locator("#pending-RC_PRO")
    expect(sent.locator(".doc-state .state-label")).to_have_text("Valide")
    expect(sent.locator(".renewal")).to_contain_text("en cours de vérification")
    page.get_by_role("link", name="Mes documents").click()
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    row = page.locator("#online-RC_PRO")
    expect(row.locator(".doc-state .state-label")).to_have_text("Valide")
    expect(row.locator(".renewal")).to_contain_text("en cours de vérification")
    log_out(page)

    log_in(page, "operateur@vigie.test")
    page.get_by_role("link", name="Vérifications").click()
    page.locator("#review-queue").get_by_role("link", name=re.compile("Examiner.*RC professionnelle")).click()
    decision = page.locator("#decision")
    decision.get_by_label("Motif du refus").select_option(label="Document non signé")
    decision.get_by_role("button", name="Refuser").click()
    expect(page.locator("#flash-area")).to_contain_text("refusé")
    log_out(page)

    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Mes documents").click()
    item = page.locator("#pending-RC_PRO")
    expect(item.locator(".doc-state .state-label")).to_have_text("Valide")
    expect(item.locator(".refusal")).to_contain_text("Nouvelle version refusée.")
    expect(item.locator(".refusal")).to_contain_text("Document non signé")
    check.accessible(page)
    check.screenshot(page, "documents-refused-renewal")
    badge = int(page.locator("#pending-count").inner_text())
    item.get_by_role("button", name=re.compile("Retirer la version refusée")).click()
    expect(page.locator("#flash-area")).to_contain_text("Version refusée retirée")
    expect(page.locator("#pending-RC_PRO")).to_have_count(0)
    expect(page.locator("#pending-count")).to_have_text(str(badge - 1))
    log_out(page)

    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").click()
    page.get_by_role("link", name="Menuiserie Martin").first.click()
    partner_row = page.locator("tr", has_text="RC professionnelle")
    expect(partner_row.locator(".state-label")).to_have_text("Valide")
    expect(partner_row).not_to_contain_text("Refusé")
    check.accessible(page)


def test_a_file_over_10_mb_is_refused_before_it_is_sent(page, check):
    log_in(page, "fournisseur@vigie.test")
    expect(page.get_by_role("link", name="Mes documents")).to_be_visible()
    page.goto(page.base_url + "/documents/LNTE/update")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    file_input = page.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)")
    file_input.set_input_files(
        files=[{"name": "scan-600dpi.pdf", "mimeType": "application/pdf", "buffer": pdf() + b"%" * (12 * 1024 * 1024)}]
    )
    error = page.locator("#file-size-error")
    expect(error).to_contain_text("Ce fichier fait 12,0 Mo : 10 Mo maximum.")
    page.get_by_label("Date du document").fill((today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Envoyer le document").click()
    page.wait_for_timeout(300)
    assert posts == []  # nothing was sent
    check.accessible(page)
    file_input.set_input_files(files=[{"name": "lnte.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
    expect(error).to_have_count(0)
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator("#pending-LNTE")).to_contain_text("en cours de vérification")
    assert len(posts) == 1
