"""Main journeys of the shell in a real Chromium: log in, switch organisation, invite, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_landing_and_login_with_an_inline_error_then_dashboard(page, check):
    page.goto(page.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dossier de vigilance, à jour sans y penser")
    check.accessible(page)
    check.screenshot(page, "landing")

    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Adresse e-mail").fill("constructor@vigie.test")
    page.get_by_label("Mot de passe", exact=True).fill("mauvais-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    error = page.locator("#password-error")
    expect(error).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    check.accessible(page)
    check.screenshot(page, "login-error")

    page.get_by_label("Mot de passe", exact=True).fill("vigie-demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    expect(page.get_by_test_id("active-organisation")).to_have_text("Constructor SA")
    check.accessible(page)
    check.screenshot(page, "dashboard")


def test_switch_organisation_from_the_menu(page, check):
    log_in(page, "constructor@vigie.test")
    page.get_by_test_id("active-organisation").click()
    menu = page.locator("#org-switcher")
    names = menu.locator(".org-list li").all_inner_texts()
    assert [n.strip(" ✓") for n in names] == ["Constructor SA", "Demolitor SAS"]
    check.accessible(page)
    check.screenshot(page, "organisation-menu")
    menu.get_by_role("button", name="Demolitor SAS").click()
    expect(page.get_by_test_id("active-organisation")).to_have_text("Demolitor SAS")
    expect(page.locator("#flash-area")).to_contain_text("Vous travaillez maintenant pour Demolitor SAS.")
    expect(page.get_by_test_id("organisation-card")).to_contain_text("830124590")


def test_invite_with_inline_validation_then_logout(page, check):
    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Équipe", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Équipe de Menuiserie Martin")
    form = page.locator("#invite-form")
    form.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    form.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator("#email-error")).to_have_text("Cette adresse e-mail n'est pas valide.")
    expect(page).to_have_url(re.compile(r"/team$"))
    check.accessible(page)
    page.locator("#invite-form").get_by_label("Adresse e-mail").fill("julie@martin.test")
    page.locator("#invite-form").get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator("#flash-area")).to_contain_text("Invitation envoyée à julie@martin.test.")
    expect(page.locator("#invitations")).to_contain_text("julie@martin.test")
    check.screenshot(page, "team")

    page.get_by_role("link", name="Boîte d'envoi (dev)").first.click()
    expect(page.locator("#outbox")).to_contain_text("Paul Martin vous invite à rejoindre Menuiserie Martin sur Vigie")
    check.accessible(page)
    check.screenshot(page, "dev-outbox")

    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    expect(page.locator("#flash-area")).to_contain_text("Vous êtes déconnecté. À bientôt !")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def test_operator_filters_deliveries_in_place(page, check):
    log_in(page, "operateur@vigie.test")
    page.get_by_role("link", name="Envois", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Envois de la plateforme")
    page.wait_for_load_state()  # htmx (deferred) listens before the filter changes
    page.get_by_label("État").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("#deliveries")).to_contain_text("Aucun envoi.")
    check.accessible(page)
    check.screenshot(page, "deliveries")


def test_everything_works_without_javascript(browser, live_server, check):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    base = live_server[0]
    page.goto(base + "/login")
    page.get_by_label("Adresse e-mail").fill("constructor@vigie.test")
    page.get_by_label("Mot de passe", exact=True).fill("faux")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#password-error")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    page.get_by_label("Mot de passe", exact=True).fill("vigie-demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    page.locator("#org-switcher summary").click()
    page.locator("#org-switcher").get_by_role("button", name="Demolitor SAS").click()
    expect(page.get_by_test_id("active-organisation")).to_have_text("Demolitor SAS")
    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    context.close()


def test_english_interface_and_phone_layout(browser, live_server, check):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server[0] + "/login")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("Email address").fill("fournisseur@vigie.test")
    page.get_by_label("Password", exact=True).fill("vigie-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Paul")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    check.accessible(page)
    check.screenshot(page, "dashboard-phone-en")
    context.close()
