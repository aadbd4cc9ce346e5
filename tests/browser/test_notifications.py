"""Notifications in a real Chromium: Menuiserie Martin accepts Constructor SA from « Qui m'a
invité ? », asks it to pause its reminders with a reason; Constructor SA decides (paused until a
date); the reminders sent on Constructor's behalf stop; Martin sees it, and its schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from tests.support.browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _open_menu_link(page, name: str) -> None:
    page.locator("details.user-menu summary").click()
    page.get_by_role("link", name=name).click()


def test_a_supplier_asks_a_pause_the_client_grants_it_and_the_reminders_stop(page, check, live_server):
    base, app = live_server
    log_in(page, "fournisseur@vigie.test")
    _open_menu_link(page, "Qui m'a invité ?")
    expect(page.get_by_role("heading", name="Qui m'a invité ?")).to_be_visible()
    row = page.locator("#inviters tr", has_text="Constructor SA")
    expect(row).to_contain_text("Demande en attente de votre réponse")
    expect(row).to_contain_text("Attestation d'assurance RC professionnelle")  # what it requires
    row.get_by_role("button", name="Accepter Constructor SA").click()
    row = page.locator("#inviters tr", has_text="Constructor SA")
    row.get_by_role("link", name="Demander une pause des relances Constructor SA").click()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".field-error").first).to_contain_text("Choisissez une raison.")
    page.get_by_label("Raison").select_option(label="Contrat terminé")
    page.get_by_label("Commentaire pour le client").fill("Chantier de la rue Vendôme livré en novembre.")
    check.accessible(page)
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".flash").first).to_contain_text("Demande envoyée à Constructor SA")
    expect(page.locator("#inviters tr", has_text="Constructor SA")).to_contain_text(
        "En attente de la décision du client"
    )
    check.accessible(page)
    check.screenshot(page, "notifications-who-invited-me")
    log_out(page)

    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").first.click()
    page.get_by_role("link", name="Demandes de pause").click()
    card = page.locator("article.pause", has_text="Menuiserie Martin")
    expect(card).to_contain_text("Contrat terminé")
    expect(card).to_contain_text("Chantier de la rue Vendôme livré en novembre.")
    card.get_by_label("Mettre les relances en pause jusqu'au…").check()
    card.get_by_role("button", name="Enregistrer ma décision").click()
    card = page.locator("article.pause", has_text="Menuiserie Martin")
    expect(card.locator(".field-error").first).to_contain_text("Indiquez une date à venir (JJ/MM/AAAA).")
    until = clock.today() + timedelta(days=60)
    card.get_by_label("Mettre les relances en pause jusqu'au…").check()
    card.get_by_label("Pause jusqu'au", exact=True).fill(until.isoformat())
    check.accessible(page)
    check.screenshot(page, "notifications-pause-decision")
    card.get_by_role("button", name="Enregistrer ma décision").click()
    expect(page.locator(".flash").first).to_contain_text("Décision enregistrée")
    expect(page.locator("article.pause", has_text="Menuiserie Martin")).to_contain_text("Relances en pause")
    log_out(page)

    # The reminders sent on Constructor's behalf now stop: its new requirement reaches no one.
    from portal.models import Notice, Organisation
    from portal.partners import requirements

    with app.test_request_context():
        constructor = db.session.scalar(select(Organisation.id).where(Organisation.siren == "521087437"))
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == "812345676"))
        requirements.tell_new(constructor, martin, ["QUALIBAT"])
        skipped = db.session.scalar(
            select(Notice.skipped).where(Notice.kind == "new_requirement").order_by(Notice.id.desc())
        )
        db.session.remove()
    assert skipped == "paused"

    log_in(page, "fournisseur@vigie.test")
    _open_menu_link(page, "Qui m'a invité ?")
    row = page.locator("#inviters tr", has_text="Constructor SA")
    expect(row).to_contain_text("Relances en pause")
    expect(row).to_contain_text("jusqu'au")
    page.get_by_role("link", name="Notifications", exact=True).click()
    expect(page.locator("#planned")).to_contain_text("Prochain envoi :")
    expect(page.locator("#planned")).not_to_contain_text("QUALIBAT")
    page.locator("#kind-other_expiry").get_by_label("Récapitulatif du lundi").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".flash").first).to_contain_text("Préférences enregistrées.")
    expect(page.locator("#kind-legal_expiry").get_by_label("Jamais")).to_be_disabled()
    check.accessible(page)
    check.screenshot(page, "notifications-preferences")
