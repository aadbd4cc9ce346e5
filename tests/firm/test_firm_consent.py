"""A company already on Vigie joins a firm only when one of its owners accepts (issue 14, item 14)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from stdnum import luhn

from portal.core.extensions import db
from portal.models import AuditEvent, ClientFile, Message, Organisation
from tests.support.data import drain, other_company
from tests.support.firm import as_admin, seed_firm
from tests.support.http import csrf_from, login, post

MARTIN = "812345676"  # Menuiserie Martin: on Vigie, run by fournisseur@vigie.test (owner)
HEAD = MARTIN + "0001"
MARTIN_SIRET = HEAD + luhn.calc_check_digit(HEAD)


@pytest.fixture
def firm(app):
    return seed_firm(app)


def _import_martin(app, client) -> ClientFile:
    """A bulk-import row with Martin's SIRET and no executive email (the reproduction)."""
    as_admin(client)
    content = f"siret;raison_sociale;debut_exercice\n{MARTIN_SIRET};Menuiserie Martin;01/01/2026\n".encode()
    token = csrf_from(client.get("/firm/imports").data)
    answer = client.post(
        "/firm/imports",
        data={"csrf_token": token, "file": (io.BytesIO(content), "clients.csv")},
        content_type="multipart/form-data",
    )
    batch_url = answer.headers["Location"]
    client.post(batch_url + "/confirm", data={"csrf_token": csrf_from(client.get(batch_url).data)})
    drain(app)
    post(client, "/logout")
    with app.app_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        return db.session.scalar(select(ClientFile).where(ClientFile.company_id == martin))


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_an_imported_company_already_on_vigie_gets_no_firm_space_until_an_owner_accepts(app, client, firm):
    client_file = _import_martin(app, client)
    assert client_file.consent == "pending"
    with app.app_context():
        asked = db.session.scalar(select(Message).where(Message.template == "firm_consent_request"))
        assert asked.recipient == "fournisseur@vigie.test" and "souhaite compter" in asked.subject
    login(client, "fournisseur@vigie.test")
    home = _text(client.get("/"))
    assert 'href="/space"' not in home  # no "Espace cabinet" it never agreed to
    assert "souhaite compter votre entreprise parmi ses clients" in home
    assert "Aucun cabinet comptable ne suit" in _text(client.get("/space"))
    response = post(client, f"/space/firm-requests/{client_file.id}/accept")
    assert response.status_code == 303
    assert 'href="/space"' in _text(client.get("/"))
    with app.app_context():
        decided = db.session.get(ClientFile, client_file.id)
        assert decided.consent == "accepted" and decided.consent_decided_by_id is not None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client_file.consent_given"))
    again = post(client, f"/space/firm-requests/{client_file.id}/refuse")
    assert again.status_code == 303
    with app.app_context():
        assert db.session.get(ClientFile, client_file.id).consent == "accepted"  # answered once


def test_a_refusal_keeps_the_firm_out_and_the_firm_sees_it(app, client, firm):
    client_file = _import_martin(app, client)
    login(client, "fournisseur@vigie.test")
    post(client, f"/space/firm-requests/{client_file.id}/refuse")
    assert 'href="/space"' not in _text(client.get("/"))
    post(client, "/logout")
    as_admin(client)
    page = _text(client.get(f"/firm/clients/{client_file.id}"))
    assert "L&#39;entreprise a refusé votre demande" in page or "L'entreprise a refusé votre demande" in page


def test_the_firm_sees_that_the_file_waits_for_the_company(app, client, firm):
    client_file = _import_martin(app, client)
    as_admin(client)
    page = _text(client.get(f"/firm/clients/{client_file.id}"))
    assert "En attente de l&#39;accord de l&#39;entreprise" in page or "En attente de l'accord" in page


def test_only_an_owner_of_that_company_answers(app, client, firm):
    client_file = _import_martin(app, client)
    other_company(app, "intrus@vigie.test", 52000001)
    login(client, "intrus@vigie.test")
    assert post(client, f"/space/firm-requests/{client_file.id}/accept").status_code == 404
    post(client, "/logout")
    as_admin(client)  # the firm cannot answer for the company either
    assert post(client, f"/space/firm-requests/{client_file.id}/accept").status_code == 404
    with app.app_context():
        assert db.session.get(ClientFile, client_file.id).consent == "pending"


def test_a_company_new_to_vigie_needs_no_consent(app, client, firm):
    with app.app_context():
        files = db.session.scalars(select(ClientFile)).all()
        assert files and {f.consent for f in files} == {"accepted"}


def test_the_wizard_also_waits_for_the_companys_owner(app, client, firm):
    from tests.support.firm import step, walk_wizard

    as_admin(client)
    assert walk_wizard(client, siret=MARTIN_SIRET, executive="fournisseur@vigie.test", invite=False).status_code == 303
    assert step(client, 8).status_code == 303
    post(client, "/logout")
    with app.app_context():
        client_file = db.session.scalar(select(ClientFile).where(ClientFile.siret == MARTIN_SIRET))
        assert client_file.consent == "pending"
    login(client, "fournisseur@vigie.test")
    assert 'href="/space"' not in _text(client.get("/"))
    post(client, f"/space/firm-requests/{client_file.id}/accept")
    assert 'href="/space"' in _text(client.get("/"))
