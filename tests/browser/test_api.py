"""The API's settings in a real Chromium: Constructor SA's owner creates a key and reads his
suppliers with it, registers a webhook, and sees in its log the delivery Martin's acceptance sent."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.api.test_webhooks import Receiver
from tests.support.browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_owner_creates_a_key_uses_it_and_follows_a_webhook_delivery(page, check, live_server):
    base = live_server[0]
    receiver = Receiver()
    try:
        log_in(page, "constructor@vigie.test")
        page.get_by_role("link", name="API", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Paramètres › API")
        check.accessible(page)
        form = page.locator("#api-key-form")
        form.get_by_role("button", name="Créer la clé").click()
        expect(form.locator(".field-error").first).to_contain_text("Donnez un nom à cette clé")
        form.get_by_label("Nom de la clé").fill("ERP achats")
        form.get_by_label("Lire mes fournisseurs et leur conformité").check()
        form.get_by_role("button", name="Créer la clé").click()
        expect(page.locator("#new-key")).to_contain_text("elle ne sera plus jamais affichée")
        secret = page.locator("#new-key-secret").inner_text()
        check.accessible(page)
        check.screenshot(page, "api-key-created")
        answer = requests.get(f"{base}/api/v1/suppliers", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["next_cursor"] is None
        page.reload()
        expect(page.locator("#new-key")).to_have_count(0)
        expect(page.locator("#api-keys")).not_to_contain_text("jamais")

        page.get_by_role("link", name="Webhooks").click()
        hook = page.locator("#webhook-form")
        hook.get_by_label("Adresse du récepteur").fill(receiver.url)
        hook.get_by_label("Une mise en relation est acceptée").check()
        hook.get_by_role("button", name="Ajouter l'adresse").click()
        expect(page.locator("#new-webhook-secret")).to_contain_text("whsec_")
        check.accessible(page)
        log_out(page)

        log_in(page, "fournisseur@vigie.test")
        page.locator("#pending-partners").get_by_role("button", name="Accepter Constructor SA").click()
        expect(page.locator("#pending-partners")).to_contain_text("Vous avez accepté la demande de Constructor SA.")
        log_out(page)

        log_in(page, "constructor@vigie.test")
        page.get_by_role("link", name="API", exact=True).click()
        page.get_by_role("link", name="Webhooks").click()
        page.locator("#webhook-endpoints").get_by_role("link", name=receiver.url).click()
        expect(page.locator("#webhook-log")).to_contain_text("partnership.accepted", timeout=15_000)
        page.reload()
        expect(page.locator("#webhook-log")).to_contain_text("Reçu")
        expect(page.locator("#webhook-log")).to_contain_text("HTTP 200")
        check.accessible(page)
        check.screenshot(page, "webhook-log")
        assert len(receiver.received) == 1
    finally:
        receiver.close()
