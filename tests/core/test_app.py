"""App factory, configuration, shell, language, error pages and CSRF."""

from __future__ import annotations

import pytest
from flask import abort

from portal import create_app
from portal.core import config
from tests.support.http import HTMX, post, token_for


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/vigie")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    settings = config.load(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.example/vigie"


def test_production_refuses_sqlite(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(config.ConfigError, match="PostgreSQL"):
        config.load(str(tmp_path))


def test_development_generates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    for name in ("VIGIE_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "SMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    first = config.load(str(tmp_path))
    second = config.load(str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'vigie.db'}"
    assert (first["QUEUE_BACKEND"], first["MAIL_BACKEND"], first["SMS_BACKEND"]) == ("inprocess", "outbox", "outbox")
    assert first["SESSION_COOKIE_SECURE"] is False


def test_links_in_emails_follow_the_port_make_run_serves_on(monkeypatch, tmp_path):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert config.load(str(tmp_path))["PUBLIC_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "5101")
    assert config.load(str(tmp_path))["PUBLIC_URL"] == "http://127.0.0.1:5101"
    monkeypatch.setenv("PUBLIC_URL", "https://vigie.example.fr")
    assert config.load(str(tmp_path))["PUBLIC_URL"] == "https://vigie.example.fr"


def test_services_are_switched_on_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example")
    monkeypatch.setenv("SMS_API_KEY", "key")
    settings = config.load(str(tmp_path))
    assert settings["QUEUE_BACKEND"] == "rq"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert (settings["MAIL_BACKEND"], settings["SMS_BACKEND"]) == ("smtp", "brevo")


def test_landing_page_is_french_for_everyone(client):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert "Votre dossier de vigilance, à jour sans y penser" in page
    assert "htmx-2.0.11.min.js" in page and "unpkg" not in page
    assert 'hx-headers=\'{"X-CSRFToken":' in page


def test_english_can_be_chosen_and_is_remembered_for_the_user(app, client, auth, demo):
    token = token_for(client, "/")
    client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    auth.login("fournisseur@vigie.test")
    assert "Hello Paul" in client.get("/").get_data(as_text=True)
    post(client, "/language", {"language": "fr"})
    assert "Bonjour Paul" in client.get("/").get_data(as_text=True)


def test_dates_are_written_the_french_way(client, auth, demo, monkeypatch):
    import datetime

    monkeypatch.setattr("portal.core.clock.today", lambda: datetime.date(2026, 11, 22))
    auth.login("fournisseur@vigie.test")
    assert "Aujourd'hui, 22 novembre 2026." in client.get("/").get_data(as_text=True)


def test_navigation_depends_on_the_role(client, auth, demo):
    auth.login("operateur@vigie.test")
    assert "Envois</a>" in client.get("/").get_data(as_text=True)
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    page = client.get("/").get_data(as_text=True)
    assert "Envois</a>" not in page and "Équipe</a>" in page


def test_not_found_is_a_full_french_page_or_an_htmx_fragment(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page introuvable" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get("/no/such/page", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 404 and "<html" not in body and "Page introuvable" in body
    assert fragment.headers["HX-Retarget"] == "#flash-area"
    assert "HX-Request" in fragment.headers["Vary"]


def test_server_errors_and_forbidden_get_french_pages(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and "Erreur inattendue" in response.get_data(as_text=True)
    assert "kaboom" not in response.get_data(as_text=True)
    assert client.get("/boom", headers=HTMX).headers["HX-Retarget"] == "#flash-area"
    assert "Accès refusé" in client.get("/forbidden").get_data(as_text=True)


def test_posts_without_csrf_token_are_refused_plain_and_htmx(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    plain = client.post("/team", data={"email": "x@y.test", "role": "member"})
    assert plain.status_code == 400 and "Session expirée" in plain.get_data(as_text=True)
    fragment = client.post("/team", data={"email": "x@y.test", "role": "member"}, headers=HTMX)
    assert fragment.status_code == 400 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#flash-area"


def test_htmx_posts_may_carry_the_token_in_a_header(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/team")
    response = client.post(
        "/team", data={"email": "julie@martin.test", "role": "member"}, headers={**HTMX, "X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/team"


def test_dev_outbox_shows_messages_as_received_and_is_absent_in_production(app, client, demo, monkeypatch):
    token = token_for(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "Votre lien pour choisir un nouveau mot de passe Vigie" in page
    assert "fournisseur@vigie.test" in page
    message = client.get("/dev/outbox/1").get_data(as_text=True)
    assert "Bonjour Paul," in message and "/password/reset/" in message
    html = client.get("/dev/outbox/1/html")
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Choisir un nouveau mot de passe" in html.get_data(as_text=True)
    assert "Boîte d'envoi" in client.get("/dev/outbox?channel=sms").get_data(as_text=True)
    monkeypatch.setenv("VIGIE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1/none")
    production = create_app({"TESTING": True})
    assert production.test_client().get("/dev/outbox").status_code == 404


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok", "queue": "manual"}


def test_an_unexpected_error_shows_the_french_page_with_its_reference_to_a_logged_in_user(make_app, caplog):
    """The layout reads the user's organisations; after the failed request's rollback they are
    loaded again, so the page is ours, in French, never Werkzeug's bare English one."""
    import re

    from portal.demo.seed import seed_demo
    from tests.support.http import login

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        seed_demo(with_documents=False)

    def broken():
        raise RuntimeError("disk on fire")

    app.add_url_rule("/broken", "broken", broken)
    client = app.test_client()
    login(client, "fournisseur@vigie.test")
    answer = client.get("/broken")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "Erreur inattendue" in page and "Menuiserie Martin" in page
    reference = re.search(r"Référence de l’erreur : ([0-9A-F]{8})", page).group(1)
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


def test_every_answer_carries_the_security_headers_and_files_keep_their_own(client, auth, demo_file):
    for url in ("/", "/login", "/nowhere"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # development: plain HTTP on 127.0.0.1
    auth.login("fournisseur@vigie.test")
    location = post(client, "/documents/quitus").headers["Location"]
    assert client.get(location).headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_no_template_holds_an_inline_script_or_event_handler():
    import re
    from pathlib import Path

    for path in (Path(__file__).resolve().parents[2] / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+=\"", text), path


def test_production_answers_ask_for_https_from_now_on(make_app):
    client = make_app(VIGIE_ENV="production").test_client()
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=31536000")
