"""What a person does in the browser journeys: log in and out, wait for htmx to settle."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.http import DEMO_PASSWORD


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(page.base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    # Until the next page has loaded (its deferred scripts run): a click on it before htmx is
    # ready would post the JavaScript-less form instead (a race seen on the loaded CI machine).
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Se connecter").click()


def log_out(page) -> None:
    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def settled(page) -> None:
    """Wait until htmx has finished swapping and settling (new content gets its listeners then)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
