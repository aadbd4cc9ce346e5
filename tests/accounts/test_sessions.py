"""Server-side sessions: a copied cookie dies with logout, a password change or an operator's
decision; remember-me lasts 30 days at most."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import AuditEvent, Message, User, UserSession, utcnow
from tests.support.data import drain
from tests.support.http import DEMO_PASSWORD, login, post, token_for


def _copy(app, client, *names: str):
    """A thief's browser: the victim's cookies copied as they are."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def _remembered_login(client):
    """Log in with « Rester connecté » ticked."""
    form = {"email": "cabinet@vigie.test", "password": DEMO_PASSWORD, "remember": "y", "csrf_token": token_for(client)}
    return client.post("/login", data=form)


def _opens(client, path: str = "/team") -> bool:
    return client.get(path).status_code == 200


def test_a_session_cookie_copied_before_logout_opens_nothing_after_it(app, client, demo):
    login(client, "fournisseur@vigie.test")
    thief = _copy(app, client, "session")
    assert _opens(thief)
    post(client, "/logout")
    assert not _opens(thief)
    assert thief.get("/team").headers["Location"].startswith("/login")


def test_a_remember_me_cookie_alone_dies_with_logout(app, client, demo):
    response = _remembered_login(client)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert expires - datetime.now(UTC) <= timedelta(days=30, minutes=1)  # 30 days at most, not 365
    thief = _copy(app, client, "remember_token")  # the remember-me cookie only
    assert _opens(thief, "/firm/clients")
    post(client, "/logout")
    fresh = _copy(app, client, "remember_token") if client.get_cookie("remember_token") else thief
    assert not _opens(thief, "/firm/clients") and not _opens(fresh, "/firm/clients")
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.remember.is_(True)))
        assert row.end_reason == "logout"
        assert abs(row.expires_at - row.created_at - timedelta(days=30)) < timedelta(seconds=1)


def test_a_password_reset_ends_every_session(app, client, demo):
    _remembered_login(client)
    thief = _copy(app, client, "remember_token")
    other = app.test_client()
    other.post(
        "/password/forgot", data={"email": "cabinet@vigie.test", "csrf_token": token_for(other, "/password/forgot")}
    )
    with app.app_context():
        body = db.session.scalar(select(Message.body_text).where(Message.template == "password_reset"))
    link = re.search(r"http://localhost(/password/reset/\S+)", body).group(1)
    token = token_for(other, link)
    other.post(link, data={"password": "un-nouveau-mot-2026", "confirm": "un-nouveau-mot-2026", "csrf_token": token})
    assert not _opens(thief, "/firm/clients")
    assert not _opens(client, "/firm/clients")  # the victim's own browser too: it was the same sessions
    with app.app_context():
        assert db.session.scalar(select(UserSession).where(UserSession.ended_at.is_(None))) is None


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, client, demo):
    login(client, "fournisseur@vigie.test")
    laptop = app.test_client()
    login(laptop, "fournisseur@vigie.test")
    page = client.get("/account/security").get_data(as_text=True)
    assert page.count("<tr><td>") == 2 and "(cette session)" in page
    wrong = post(
        client,
        "/account/password",
        {"current": "pas-le-bon", "password": "nouveau-mdp-2026", "confirm": "nouveau-mdp-2026"},
    )
    assert wrong.status_code == 422 and "Mot de passe incorrect." in wrong.get_data(as_text=True)
    response = post(
        client,
        "/account/password",
        {"current": DEMO_PASSWORD, "password": "nouveau-mdp-2026", "confirm": "nouveau-mdp-2026"},
    )
    assert response.status_code == 303
    assert _opens(client) and not _opens(laptop)
    drain(app)
    with app.app_context():
        notice = db.session.scalar(select(Message).where(Message.template == "security_notice"))
        assert notice.recipient == "fournisseur@vigie.test" and "mot de passe a été changé" in notice.subject
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_changed")).details == {
            "sessions_ended": 1
        }
    assert login(app.test_client(), "fournisseur@vigie.test", "nouveau-mdp-2026").status_code == 303


def test_closing_ones_other_sessions(app, client, demo):
    login(client, "fournisseur@vigie.test")
    phone = app.test_client()
    login(phone, "fournisseur@vigie.test")
    post(client, "/account/sessions/end-others")
    assert _opens(client) and not _opens(phone)


def test_an_operator_ends_a_users_sessions(app, client, demo):
    victim = app.test_client()
    login(victim, "constructor@vigie.test")
    login(client, "operateur@vigie.test")
    page = client.get("/operations/users?email=constructor@vigie.test").get_data(as_text=True)
    assert 'id="open-count">1<' in page
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "constructor@vigie.test"))
    response = post(client, f"/operations/users/{user_id}/end-sessions")
    assert response.status_code == 303
    assert not _opens(victim)
    assert 'id="open-count">0<' in client.get("/operations/users?email=constructor@vigie.test").get_data(as_text=True)
    assert "Aucun compte" in client.get("/operations/users?email=personne@vigie.test").get_data(as_text=True)


def test_only_operators_end_other_peoples_sessions(app, client, demo):
    login(client, "fournisseur@vigie.test")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "constructor@vigie.test"))
    assert client.get("/operations/users?email=constructor@vigie.test").status_code == 403
    assert post(client, f"/operations/users/{user_id}/end-sessions").status_code == 403


def test_an_expired_session_logs_out(app, client, demo):
    login(client, "fournisseur@vigie.test")
    with app.app_context():
        db.session.execute(db.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert not _opens(client)


def test_a_forged_session_id_opens_nothing(app, client, demo):
    login(client, "fournisseur@vigie.test")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "fournisseur@vigie.test"))
    from flask import json  # noqa: F401 - the cookie is signed: forging it needs the secret

    with client.session_transaction() as state:
        state["_user_id"] = f"{user_id}.guessed-token"
    assert not _opens(client)
    with client.session_transaction() as state:
        state["_user_id"] = str(user_id)  # the old format: a bare id is no session any more
    assert not _opens(client)
