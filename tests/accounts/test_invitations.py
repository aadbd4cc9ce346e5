from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import Invitation, Membership, Message, User, utcnow
from tests.support.http import login, post, token_for


def _invite(app, client, email: str) -> str:
    login(client, "fournisseur@vigie.test")
    token = token_for(client, "/team")
    client.post("/team", data={"email": email, "first_name": "Julie", "role": "member", "csrf_token": token})
    post(client, "/logout")
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.recipient == email)).one()
        assert "Paul Martin vous invite à rejoindre Menuiserie Martin sur Vigie" == message.subject
        return re.search(r"http://localhost(/invitation/\S+)", message.body_text).group(1)


def test_new_person_accepts_invitation_and_lands_in_the_company(app, client, demo):
    link = _invite(app, client, "julie@martin.test")
    page = client.get(link).get_data(as_text=True)
    assert "Rejoindre Menuiserie Martin" in page
    assert 'value="Julie"' in page
    token = token_for(client, link)
    response = client.post(
        link,
        data={
            "first_name": "Julie",
            "last_name": "Petit",
            "password": "un-bon-mot-de-passe",
            "confirm": "un-bon-mot-de-passe",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    dashboard = client.get("/").get_data(as_text=True)
    assert "Bienvenue chez Menuiserie Martin !" in dashboard
    assert "Bonjour Julie" in dashboard
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "julie@martin.test"))
        assert user.last_name == "Petit"
        assert db.session.scalar(select(Membership).where(Membership.user_id == user.id)).role == "member"


def test_invitation_link_works_once(app, client, demo):
    link = _invite(app, client, "julie@martin.test")
    token = token_for(client, link)
    client.post(link, data={"password": "un-bon-mot-de-passe", "confirm": "un-bon-mot-de-passe", "csrf_token": token})
    post(client, "/logout")
    again = client.get(link)
    assert again.status_code == 410
    assert "Cette invitation a déjà été acceptée" in again.get_data(as_text=True)


def test_expired_and_revoked_invitations_are_refused(app, client, demo):
    link = _invite(app, client, "julie@martin.test")
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 410 and "a expiré" in expired.get_data(as_text=True)
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        invitation.expires_at = utcnow() + timedelta(days=1)
        invitation.revoked_at = utcnow()
        db.session.commit()
    assert "annulée" in client.get(link).get_data(as_text=True)


def test_tampered_invitation_link_is_refused(client, demo):
    response = client.get("/invitation/not-a-real-token")
    assert response.status_code == 410
    assert "n'est pas valide" in response.get_data(as_text=True)


def test_existing_user_joins_with_his_own_password(app, client, demo):
    link = _invite(app, client, "constructor@vigie.test")
    page = client.get(link).get_data(as_text=True)
    assert "Vous avez déjà un compte Vigie" in page
    token = token_for(client, link)
    wrong = client.post(link, data={"password": "not-my-password", "csrf_token": token})
    assert wrong.status_code == 422
    assert "Mot de passe incorrect pour ce compte." in wrong.get_data(as_text=True)
    assert client.post(link, data={"password": "vigie-demo", "csrf_token": token}).status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Vous travaillez pour <strong>Menuiserie Martin</strong>" in page
    assert page.index("Constructor SA") < page.index("Demolitor SAS") < page.index("✓ Menuiserie Martin")
