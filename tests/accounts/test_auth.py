from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from portal.core.extensions import db
from portal.models import AuditEvent, Message, User
from tests.support.http import HTMX, login, post, token_for


def test_login_lands_on_dashboard_of_the_users_company(client, auth, demo):
    response = auth.login("fournisseur@vigie.test")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Bonjour Paul" in page
    assert "Menuiserie Martin" in page


def test_login_accepts_email_in_any_case(client, auth, demo):
    assert auth.login("  Fournisseur@VIGIE.test ").status_code == 303


def test_wrong_password_and_unknown_email_get_the_same_answer(client, auth, demo):
    wrong = auth.login("fournisseur@vigie.test", "nope-nope-nope")
    unknown = auth.login("nobody@vigie.test", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 422
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_over_htmx_swaps_the_form_or_redirects(client, demo):
    token = token_for(client)
    bad = client.post(
        "/login", data={"email": "fournisseur@vigie.test", "password": "x", "csrf_token": token}, headers=HTMX
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "<html" not in body and 'id="login-form"' in body
    assert "aria-invalid" in body
    good = client.post(
        "/login", data={"email": "fournisseur@vigie.test", "password": "vigie-demo", "csrf_token": token}, headers=HTMX
    )
    assert good.status_code == 200 and good.headers["HX-Redirect"] == "/"


def test_session_is_renewed_at_login(client, auth, demo):
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    auth.login("fournisseur@vigie.test")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_next_is_followed_but_never_off_site(client, demo):
    token = token_for(client)
    form = {"email": "fournisseur@vigie.test", "password": "vigie-demo", "csrf_token": token}
    assert client.post("/login?next=/team", data=form).headers["Location"] == "/team"
    client.post("/logout", data={"csrf_token": token_for(client, "/")})
    token = token_for(client)
    response = client.post("/login?next=//evil.example/x", data={**form, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_protected_page_sends_to_login_with_next(client, demo):
    response = client.get("/team")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/team")
    htmx = client.get("/team", headers={**HTMX, "HX-Current-URL": "http://localhost/team?x=1"})
    assert htmx.headers["HX-Redirect"] == "/login?next=/team?x%3D1"


def test_logout_needs_post_and_ends_the_session(client, auth, demo):
    auth.login("fournisseur@vigie.test")
    assert client.get("/logout").status_code == 405
    response = post(client, "/logout")
    assert response.status_code == 303
    assert client.get("/team").status_code == 303
    assert "Vous êtes déconnecté" in client.get("/login").get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(client, auth, demo):
    response = auth.login("fournisseur@vigie.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_rate_limited_per_email(client, auth, demo):
    for attempt in range(10):
        response = auth.login("fournisseur@vigie.test", "wrong", environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"})
        assert response.status_code == 422
    blocked = auth.login("fournisseur@vigie.test", "vigie-demo", environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    # Another account from another address is not affected.
    assert auth.login("constructor@vigie.test", environ_base={"REMOTE_ADDR": "10.0.1.2"}).status_code == 303


def test_one_account_locked_does_not_lock_out_its_colleagues_behind_the_same_address(client, auth, demo):
    office = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(10):
        assert auth.login("fournisseur@vigie.test", "wrong", environ_base=office).status_code == 422
    assert auth.login("fournisseur@vigie.test", environ_base=office).status_code == 429
    assert auth.login("constructor@vigie.test", environ_base=office).status_code == 303


def test_password_spraying_from_one_address_is_stopped_past_100_failures(client, auth, demo):
    for attempt in range(100):
        auth.login(f"someone{attempt}@vigie.test", "wrong", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    blocked = auth.login("fournisseur@vigie.test", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert blocked.status_code == 429


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(make_app):
    from portal.demo.seed import seed_demo

    def spray(client, forwarded_for: str) -> int:
        for attempt in range(100):
            login(client, f"someone{attempt}@vigie.test", "wrong", headers={"X-Forwarded-For": forwarded_for})
        return login(client, "fournisseur@vigie.test", headers={"X-Forwarded-For": "192.0.2.77"}).status_code

    behind_proxy = make_app(TRUSTED_PROXIES=1)
    with behind_proxy.app_context():
        seed_demo(with_documents=False)
    # Every request comes from the proxy (127.0.0.1): only the client address it forwards counts.
    assert spray(behind_proxy.test_client(), "198.51.100.9") == 303
    direct = make_app(LOGIN_ADDRESS_RATE_LIMIT="100 per 15 minutes")
    # Without a trusted proxy a forged header changes nothing: the peer address is the one limited.
    assert spray(direct.test_client(), "198.51.100.9") == 429


def test_successful_logins_do_not_use_up_the_limit(client, auth, demo):
    for _ in range(12):
        assert auth.login("fournisseur@vigie.test").status_code == 303
        post(client, "/logout")


def _reset_link(app, email: str) -> str:
    with app.app_context():
        message = db.session.scalars(
            select(Message).where(Message.recipient == email).order_by(Message.id.desc())
        ).first()
        assert message is not None, "no email queued"
        return re.search(r"http://localhost(/password/reset/\S+)", message.body_text).group(1)


def test_password_reset_by_emailed_link_works_once(app, client, auth, demo):
    token = token_for(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    assert "Vérifiez votre messagerie" in response.get_data(as_text=True)
    link = _reset_link(app, "fournisseur@vigie.test")
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.subject == "Votre lien pour choisir un nouveau mot de passe Vigie"
    form_page = client.get(link)
    assert form_page.status_code == 200
    token = token_for(client, link)
    mismatch = client.post(link, data={"password": "a-new-password", "confirm": "another-one!", "csrf_token": token})
    assert mismatch.status_code == 422
    assert "Les deux mots de passe ne sont pas identiques." in mismatch.get_data(as_text=True)
    short = client.post(link, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert "Au moins 10 caractères." in short.get_data(as_text=True)
    done = client.post(link, data={"password": "a-new-password", "confirm": "a-new-password", "csrf_token": token})
    assert done.status_code == 303
    assert auth.login("fournisseur@vigie.test", "a-new-password").status_code == 303
    again = client.get(link)
    assert again.status_code == 404
    assert "Ce lien ne fonctionne plus" in again.get_data(as_text=True)


def test_password_reset_link_expires_after_an_hour(app, client, demo, monkeypatch):
    token = token_for(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    link = _reset_link(app, "fournisseur@vigie.test")
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 3601)
    response = client.get(link)
    assert response.status_code == 410
    assert "a expiré" in response.get_data(as_text=True)


def test_forgot_password_says_nothing_about_unknown_emails(app, client, demo):
    token = token_for(client, "/password/forgot")
    known = client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    unknown = client.post("/password/forgot", data={"email": "nobody@vigie.test", "csrf_token": token})

    def strip(response) -> str:
        """The page without the email typed, nor the CSRF tokens (signed with the second they were made)."""
        page = response.get_data(as_text=True).replace("fournisseur@vigie.test", "X").replace("nobody@vigie.test", "X")
        return re.sub(r'(name="csrf_token"[^>]*value=|"X-CSRFToken": )"[^"]+"', r"\1", page)

    assert known.status_code == unknown.status_code == 200
    assert strip(known) == strip(unknown)
    with app.app_context():
        assert db.session.scalar(select(Message).where(Message.recipient == "nobody@vigie.test")) is None


def test_forgot_password_with_bad_email_shows_the_error_next_to_the_field(client, demo):
    token = token_for(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "not-an-email", "csrf_token": token}, headers=HTMX)
    assert response.status_code == 422
    assert "Cette adresse e-mail n'est pas valide." in response.get_data(as_text=True)


def test_login_and_logout_are_audited(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    post(client, "/logout")
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        user = db.session.scalar(select(User).where(User.email == "fournisseur@vigie.test"))
        assert user.last_login_at is not None
    assert actions[-2:] == ["user.logged_in", "user.logged_out"]


HOSTILE_NEXT = [
    "/%09/evil.example/phish",  # a tab: browsers drop it and read //evil.example
    "/%0a/evil.example",
    "/%5C/evil.example",  # a backslash reads as a slash
    "/\\evil.example",
    "https://evil.example/",
    "//evil.example",
    "/%2F/evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_no_next_leads_off_site_after_login_nor_for_a_logged_in_user(client, demo, target):
    token = token_for(client)
    form = {"email": "fournisseur@vigie.test", "password": "vigie-demo", "csrf_token": token}
    assert client.post(f"/login?next={target}", data=form).headers["Location"] == "/"
    assert client.get(f"/login?next={target}").headers["Location"] == "/"  # already logged in
    response = post(client, "/language", {"language": "fr", "next": unquote(target)})  # the same, as a form field
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_login_and_password_reset_keep_working_while_redis_is_down(make_app):
    """The limiter keeps its counts in Redis; Redis down, it counts in memory instead of a 500."""
    from portal.demo.seed import seed_demo
    from tests.support.services import free_port

    down = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(RATELIMIT_STORAGE_URI=down, RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1})
    with app.app_context():
        seed_demo(with_documents=False)
    client = app.test_client()
    assert login(client, "fournisseur@vigie.test").status_code == 303
    client = app.test_client()
    token = token_for(client, "/password/forgot")
    answer = client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    assert answer.status_code == 200
    # Still limited meanwhile: the in-memory fallback counts the failures.
    for _ in range(10):
        assert login(client, "constructor@vigie.test", "wrong").status_code == 422
    assert login(client, "constructor@vigie.test").status_code == 429
