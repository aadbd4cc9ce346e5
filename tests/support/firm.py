"""Shared by the accounting-firm tests: the seeded Cabinet Durand and a walk through the wizard."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.core.extensions import db
from tests.support.http import HTMX, csrf_from, form_values, login, post

FIRM = "Cabinet Durand & Associés"
# A SIRET of the bundled company data set (portal/data/companies.json), not a client yet.
KNOWN_SIRET = "50100001200127"


def seed_firm(app) -> dict:
    from portal.demo.seed import seed_demo
    from portal.models import ClientFile, Organisation, User

    with app.app_context():
        seed_demo(with_documents=False, with_firm=True)
        firm_id = db.session.scalar(select(Organisation.id).where(Organisation.legal_name == FIRM))
        files = {f.name: f.id for f in db.session.scalars(select(ClientFile).where(ClientFile.firm_id == firm_id))}
        users = {u.email: u.id for u in db.session.scalars(select(User))}
    return {"firm_id": firm_id, "files": files, "users": users}


def step(client, number: int, data: dict | None = None, **kwargs):
    page = client.get(f"/firm/clients/new/{number}")
    token = csrf_from(page.data)
    return client.post(f"/firm/clients/new/{number}", data={"csrf_token": token, **(data or {})}, **kwargs)


def walk_wizard(
    client, *, siret: str = KNOWN_SIRET, executive: str = "chef@boulangerie-halles.test", invite: bool = True
):
    """Steps 1 to 7 without JavaScript; returns the answer of the last one."""
    client.get("/firm/clients/new")
    assert step(client, 1, {"siret": siret}).status_code == 303
    page = client.get("/firm/clients/new/2").get_data(as_text=True)
    values = form_values(page, "wizard-form")  # what the directory filled in, as a browser sends it
    values.pop("csrf_token", None)
    if not values.get("postal_code"):
        values.update({"postal_code": "69001", "city": "Lyon", "naf_code": "10.71C"})
    assert step(client, 2, values).status_code == 303
    assert step(client, 3, {"starts_on": "2026-01-01", "ends_on": ""}).status_code == 303
    templates = re.findall(
        r'name="template_id"[^>]*value="(\d+)"', client.get("/firm/clients/new/4").get_data(as_text=True)
    )
    assert step(client, 4, {"template_id": templates[0]}).status_code == 303
    themes = re.findall(r'name="theme_ids"[^>]*value="(\d+)"', client.get("/firm/clients/new/5").get_data(as_text=True))
    data = {"email": executive, "last_name": "Halles", "first_name": "Marc", "theme_ids": themes}
    if invite:
        data["invite_now"] = "y"
    assert step(client, 5, data).status_code == 303
    assert step(client, 6, {}).status_code == 303
    return step(client, 7, {})


def as_admin(client):
    login(client, "cabinet@vigie.test")


def htmx_post(client, path: str, data: dict, page: str):
    token = csrf_from(client.get(page).data)
    return client.post(path, data={"csrf_token": token, **data}, headers=HTMX)


__all__ = ["FIRM", "KNOWN_SIRET", "as_admin", "htmx_post", "post", "seed_firm", "step", "walk_wizard"]
