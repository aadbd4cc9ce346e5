"""Platform sync in Chromium: Menuiserie Martin switches its Attestation Légale sync off from "Gérer mes
organisations", uploads an URSSAF attestation by hand, switches it back on and sees the platform's
newer version replace its own, which is archived."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.core import clock
from portal.core.extensions import db
from portal.platforms import sync
from tests.support.browser import log_in
from tests.support.documents import pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def synced(live_server):
    from portal.demo.platforms import seed_platform_connections

    with live_server[1].app_context():
        seed_platform_connections()
        db.session.remove()


def test_deactivate_upload_by_hand_reactivate_and_the_newer_platform_version_wins(page, check, synced, live_server):
    from portal.demo import samples

    log_in(page, "fournisseur@vigie.test")
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="Gérer mes organisations").click()
    page.get_by_role("link", name="Menuiserie Martin").click()
    expect(page.locator("#sync-state-attestation_legale")).to_contain_text("Synchronisée avec Attestation Légale")
    page.wait_for_load_state()
    page.locator("#company-actions summary").click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Aucun document n'est retiré")
    expect(dialog).to_contain_text("Tous les établissements (SIRET) de Menuiserie Martin sont concernés")
    check.accessible(page)
    check.screenshot(page, "platform-sync-deactivate")
    dialog.get_by_role("button", name="Confirmer la désactivation").click()
    expect(page.locator("#flash-area")).to_contain_text("Synchronisation Attestation Légale désactivée")

    # Meanwhile the platform gets a newer attestation; the supplier uploads an older one here.
    with live_server[1].app_context():
        issued = clock.today() - timedelta(days=2)
        sync.simulator().add(
            "attestation_legale",
            "812345676",
            {
                "id": "AL-URSSAF-2026-140",
                "type": "URSSAF_VIGILANCE",
                "issued_on": issued.isoformat(),
                "verification_code": "PLATEFORME12345",
            },
            samples.one("URSSAF_VIGILANCE", "812345676", "Menuiserie Martin", issued),
        )
    page.get_by_role("link", name="Mes documents", exact=True).click()
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    page.locator("#online-URSSAF_VIGILANCE").get_by_role("link", name="Mettre à jour").click()
    expect(page.locator("#sync-warning")).to_have_count(0)  # the sync is off: no question asked
    mine = clock.today() - timedelta(days=5)
    page.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)").set_input_files(
        files=[{"name": "urssaf-manuel.pdf", "mimeType": "application/pdf", "buffer": pdf("URSSAF_VIGILANCE", mine)}]
    )
    page.get_by_label("Date du document").fill(mine.isoformat())
    page.get_by_label("Code de vérification").fill("ABCDEFGHJKLMNPQ")
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator("#pending-URSSAF_VIGILANCE")).to_contain_text("en cours de vérification")

    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="Gérer mes organisations").click()
    page.get_by_role("link", name="Menuiserie Martin").click()
    page.wait_for_load_state()
    page.locator("#company-actions summary").click()
    page.get_by_role("link", name="Réactiver la synchronisation Attestation Légale").click()
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_contain_text("la version plus ancienne sera archivée et remplacée")
    dialog.get_by_role("button", name="Réactiver et synchroniser").click()
    expect(page.locator("#flash-area")).to_contain_text("elle est lancée pour tous vos établissements")
    # The in-process worker runs the sync at once; the history shows it.
    for _ in range(20):
        rows = page.locator("#sync-runs tbody tr")
        if rows.count() >= 2 and "en cours" not in rows.first.inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#sync-runs tbody tr").first).to_contain_text("Attestation Légale")
    expect(page.locator("#sync-runs tbody tr").first).not_to_contain_text("en cours")
    check.screenshot(page, "platform-sync-history")
    page.get_by_role("link", name="Mes documents", exact=True).click()
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    row = page.locator("#online-URSSAF_VIGILANCE")
    row.locator("summary").click()
    newest = row.locator(".versions li").first
    expect(newest).to_contain_text("synchronisé depuis Attestation Légale")
    expect(row.locator(".versions li", has_text=mine.strftime("%Y")).filter(has_text="Archivé")).not_to_have_count(0)
    check.accessible(page)


def test_the_demo_reactivates_demolitor_actradis_sync_and_the_newer_attestation_archives_the_older(
    page, check, synced, live_server
):
    """Items 28 and 29: from the UI, the demo's switched-off sync comes back on; the page says it is
    running and updates itself; the newer URSSAF attestation from Actradis archives Demolitor's."""
    log_in(page, "constructor@vigie.test")
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="Gérer mes organisations").click()
    page.get_by_role("link", name="Demolitor SAS").click()
    state = page.locator("#sync-state-actradis")
    expect(state).to_contain_text("Synchronisation Actradis désactivée par Claire Bernard le")
    page.wait_for_load_state()
    page.locator("#company-actions summary").click()
    page.get_by_role("link", name="Réactiver la synchronisation Actradis").click()
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_contain_text("la version plus ancienne sera archivée et remplacée")
    check.accessible(page)
    dialog.get_by_role("button", name="Réactiver et synchroniser").click()
    expect(page.locator("#flash-area")).to_contain_text("Synchronisation Actradis réactivée")
    # No reload: the page polls until the run has ended.
    expect(state).to_contain_text("Synchronisée avec Actradis", timeout=20_000)
    first = page.locator("#sync-runs tbody tr").first
    expect(first).to_contain_text("Actradis")
    expect(first.locator("td").nth(3)).to_have_text("1")  # new
    expect(first.locator("td").nth(4)).to_have_text("1")  # archived
    check.screenshot(page, "platform-sync-reactivated")
    page.get_by_role("button", name="Aller aux documents de Demolitor SAS").click()
    expect(page.locator("#flash-area")).to_contain_text("Vous travaillez maintenant pour Demolitor SAS")
    page.get_by_role("link", name="Mes dossiers en ligne").click()
    row = page.locator("#online-URSSAF_VIGILANCE")
    row.locator("summary").click()
    expect(row.locator(".versions li").first).to_contain_text("synchronisé depuis Actradis")
    expect(row.locator(".versions li").filter(has_text="Archivé")).to_have_count(1)
    check.accessible(page)
