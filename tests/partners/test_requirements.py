"""Client requirements join the supplier's orange tab ("Demandé par …") once partners."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import Partnership, Requirement
from tests.support.http import login, post


def _badge(page: str) -> int:
    return int(re.search(r'id="pending-count"[^>]*>(\d+)<', page).group(1))


def _accept(app, client) -> None:
    with app.app_context():
        partnership_id = db.session.scalar(select(Partnership.id).where(Partnership.status == "pending"))
    login(client, "fournisseur@vigie.test")
    post(client, f"/partners/requests/{partnership_id}/accept")


def test_requirements_apply_once_the_partnership_is_accepted(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    home = client.get("/").get_data(as_text=True)
    assert (
        "Elle exige aussi : Attestation d&#39;assurance RC professionnelle, Attestation d&#39;assurance décennale"
        in home
        or "Elle exige aussi : Attestation d'assurance RC professionnelle, Attestation d'assurance décennale" in home
    )
    assert "des exigences de ce client, pas des obligations légales" in home  # said before accepting
    page = client.get("/documents").get_data(as_text=True)
    assert _badge(page) == 3 and 'id="pending-DECENNALE"' not in page
    post(client, "/logout")
    _accept(app, client)
    page = client.get("/documents").get_data(as_text=True)
    assert _badge(page) == 4
    item = page[page.index('id="pending-DECENNALE"') :]
    assert "Manquant" in item[:800] and "Demandé par Constructor SA" in item[:1500]
    online = client.get("/documents/online").get_data(as_text=True)
    rc_pro = online[online.index('id="online-RC_PRO"') :]
    assert "Obligatoire" in rc_pro[:400] and "Demandé par Constructor SA" in rc_pro[:1500]


def test_client_sets_requirements_for_all_and_for_one_supplier(app, client, auth, demo_file):
    _accept(app, client)
    post(client, "/logout")
    martin = demo_file["orgs"]["Menuiserie Martin"]
    auth.login("constructor@vigie.test")
    page = client.get("/partners/requirements").get_data(as_text=True)
    assert re.search(r'value="DECENNALE" checked', page)
    post(client, "/partners/requirements", {"types": ["RC_PRO", "MUTUELLE"]})
    with app.app_context():
        codes = db.session.scalars(select(Requirement.document_type_id).where(Requirement.supplier_id.is_(None))).all()
        assert len(codes) == 2
    company = client.get(f"/partners/companies/{martin}").get_data(as_text=True)
    assert re.search(r'value="MUTUELLE"\s+disabled', company)
    post(client, f"/partners/companies/{martin}/requirements", {"types": ["CIBTP"]})
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    page = client.get("/documents").get_data(as_text=True)
    assert 'id="pending-CIBTP"' in page and 'id="pending-DECENNALE"' not in page
    assert "Demandé par Constructor SA" in page[page.index('id="pending-CIBTP"') :]


def test_requirements_for_a_company_that_is_not_a_partner_are_refused(app, client, auth, demo_file):
    auth.login("constructor@vigie.test")
    martin = demo_file["orgs"]["Menuiserie Martin"]
    assert post(client, f"/partners/companies/{martin}/requirements", {"types": ["CIBTP"]}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Requirement).where(Requirement.supplier_id == martin)) is None


def test_another_clients_requirements_do_not_leak(app, client, auth, demo_file):
    auth.login("agence@vigie.test")
    post(client, "/partners/requirements", {"types": ["QUALIBAT", "CIBTP"]})
    post(client, "/logout")
    _accept(app, client)
    page = client.get("/documents").get_data(as_text=True)
    assert 'id="pending-CIBTP"' not in page and "Batie Construction" not in page
