"""Account security in a real Chromium: an operator sets up two-factor authentication from the
banner, keeps his recovery codes, and logs in again with a code from his app."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_operator_turns_on_two_factor_and_logs_in_with_a_code(page, check):
    log_in(page, "operateur@vigie.test")
    banner = page.locator("#two-factor-banner")
    expect(banner).to_contain_text("Activez la double authentification")
    check.accessible(page)
    banner.get_by_role("link", name="L'activer maintenant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.locator("#totp-qr")).to_be_visible()
    check.accessible(page)
    check.screenshot(page, "two-factor-setup")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code à 6 chiffres de votre application").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.locator("#code-error")).to_contain_text("Code incorrect")
    page.get_by_label("Code à 6 chiffres de votre application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification activée")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check.accessible(page)
    check.screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="J'ai noté mes codes").click()
    expect(page.locator("#two-factor-state")).to_contain_text("Activée depuis le")
    expect(page.locator("#two-factor-banner")).to_have_count(0)
    check.accessible(page)

    log_out(page)
    log_in(page, "operateur@vigie.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
    check.accessible(page)
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code de votre application, ou un code de secours").fill(
        totp.at(time.time() + totp.interval)  # the next step: the last one was used
    )
    page.get_by_label("Se souvenir de cet appareil 30 jours").check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
