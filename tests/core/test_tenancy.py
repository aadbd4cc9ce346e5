"""One login, several organisations; nobody reaches another organisation's data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import Invitation, Membership, Organisation, User, utcnow
from tests.support.data import valid_siren
from tests.support.http import HTMX, post, token_for


def _other_company(app, name="Rival SARL", email="rival@vigie.test"):
    with app.app_context():
        organisation = Organisation(siren=valid_siren(77000001), legal_name=name, is_supplier=True)
        user = User(email=email, first_name="Roger", last_name="Rival")
        user.set_password("vigie-demo")
        db.session.add_all([organisation, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role="owner"))
        invitation = Invitation(
            organisation_id=organisation.id, email="new@rival.test", expires_at=utcnow() + timedelta(days=3)
        )
        db.session.add(invitation)
        db.session.commit()
        return organisation.id, invitation.id


def test_switch_menu_lists_organisations_alphabetically(client, auth, demo):
    auth.login("constructor@vigie.test")
    page = client.get("/").get_data(as_text=True)
    assert page.index("Constructor SA") < page.index("Demolitor SAS")
    assert "Changer d&#39;organisation" in page or "Changer d'organisation" in page


def test_switching_changes_the_active_organisation(client, auth, demo):
    auth.login("constructor@vigie.test")
    assert "Vous travaillez pour <strong>Constructor SA</strong>" in client.get("/").get_data(as_text=True)
    response = post(client, "/organisations/switch", {"organisation_id": demo["orgs"]["Demolitor SAS"]})
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Vous travaillez pour <strong>Demolitor SAS</strong>" in page
    assert "Vous travaillez maintenant pour Demolitor SAS." in page
    team = client.get("/team").get_data(as_text=True)
    assert "Équipe de Demolitor SAS" in team


def test_cannot_switch_to_an_organisation_one_does_not_belong_to(client, auth, demo):
    auth.login("fournisseur@vigie.test")
    response = post(client, "/organisations/switch", {"organisation_id": demo["orgs"]["Constructor SA"]})
    assert response.status_code == 404
    assert "Menuiserie Martin" in client.get("/").get_data(as_text=True)
    assert post(client, "/organisations/switch", {"organisation_id": "abc"}).status_code == 400


def test_team_shows_only_the_active_organisations_people(app, client, auth, demo):
    _other_company(app)
    auth.login("fournisseur@vigie.test")
    page = client.get("/team").get_data(as_text=True)
    assert "fournisseur@vigie.test" in page
    assert "rival@vigie.test" not in page and "new@rival.test" not in page


def test_another_organisations_invitation_cannot_be_revoked_or_resent(app, client, auth, demo):
    _, invitation_id = _other_company(app)
    auth.login("fournisseur@vigie.test")
    assert post(client, f"/team/invitations/{invitation_id}/revoke").status_code == 404
    assert post(client, f"/team/invitations/{invitation_id}/resend").status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).revoked_at is None


def test_owner_invites_and_manages_invitations(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/team")
    response = client.post("/team", data={"email": "Julie@Martin.test", "role": "member", "csrf_token": token})
    assert response.status_code == 303
    page = client.get("/team").get_data(as_text=True)
    assert "Invitation envoyée à julie@martin.test." in page
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "julie@martin.test"))
    assert post(client, f"/team/invitations/{invitation.id}/resend").status_code == 303
    assert post(client, f"/team/invitations/{invitation.id}/revoke").status_code == 303
    assert "julie@martin.test" not in client.get("/team").get_data(as_text=True).split("Invitations en attente")[1]


def test_invite_form_errors_come_back_next_to_the_field(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/team")
    response = client.post(
        "/team", data={"email": "pas-une-adresse", "role": "member", "csrf_token": token}, headers=HTMX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and 'id="invite-form"' in body
    assert 'id="email-error"' in body and "Cette adresse e-mail n'est pas valide." in body
    with app.app_context():
        assert db.session.scalar(select(Invitation)) is None


def test_only_owners_invite(client, auth, demo):
    auth.login("collaboratrice@vigie.test")
    page = client.get("/team").get_data(as_text=True)
    assert 'id="invite-form"' not in page
    token = token_for(client, "/team")
    response = client.post("/team", data={"email": "x@y.test", "role": "owner", "csrf_token": token})
    assert response.status_code == 403


def test_deliveries_page_is_for_operators_only(client, auth, demo):
    auth.login("constructor@vigie.test")
    assert client.get("/operations/deliveries").status_code == 403
    post(client, "/logout")
    auth.login("operateur@vigie.test")
    assert client.get("/operations/deliveries").status_code == 200


def test_a_membership_removed_mid_session_falls_back_to_another(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    post(client, "/organisations/switch", {"organisation_id": demo["orgs"]["Demolitor SAS"]})
    with app.app_context():
        db.session.execute(db.delete(Membership).where(Membership.organisation_id == demo["orgs"]["Demolitor SAS"]))
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Vous travaillez pour <strong>Constructor SA</strong>" in page
