"""Two-factor authentication: TOTP with a QR code, recovery codes, trusted devices, operators."""

from __future__ import annotations

import io
import re
import time

import pyotp
import zxingcpp
from PIL import Image
from sqlalchemy import select

from portal.core.extensions import db
from portal.models import AuditEvent, Message, User
from tests.support.data import drain
from tests.support.http import DEMO_PASSWORD, login, post, token_for


def _text(response) -> str:
    return response.get_data(as_text=True)


def _enable(client) -> tuple[str, list[str]]:
    """Set 2FA up as a user does: scan the QR code, type the app's code. Returns the secret and
    the recovery codes shown."""
    page = _text(client.get("/account/two-factor/setup"))
    shown = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    qr = client.get("/account/two-factor/qr.png")
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.data)))
    uri = barcode.text
    assert uri.startswith("otpauth://totp/Vigie:") and "issuer=Vigie" in uri
    secret = pyotp.parse_uri(uri).secret
    assert secret == shown  # the key typed by hand is the one in the QR code
    token = token_for(client, "/account/two-factor/setup")
    response = client.post("/account/two-factor/setup", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", _text(response))
    return secret, codes


def _code_for_next_step(secret: str) -> str:
    """A code of a later 30-second step than the last one used (a code works once)."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + totp.interval)


def _login_steps(app, email: str, code: str | None = None, **form):
    client = app.test_client()
    first = login(client, email)
    if code is None:
        return client, first
    token = token_for(client, "/login/two-factor")
    second = client.post("/login/two-factor", data={"code": code, "csrf_token": token, **form})
    return client, second


def test_setting_up_two_factor_with_the_qr_code(app, client, demo):
    login(client, "fournisseur@vigie.test")
    laptop = app.test_client()
    login(laptop, "fournisseur@vigie.test")
    wrong = post(client, "/account/two-factor/setup", {"code": "000000"})
    assert wrong.status_code == 422 and "Code incorrect" in _text(wrong)
    secret, codes = _enable(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Activée depuis le" in _text(client.get("/account/security"))
    assert laptop.get("/team").status_code == 303  # turning it on closes the other sessions
    drain(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "fournisseur@vigie.test"))
        assert secret not in (user.totp_secret or "")  # sealed, never stored as it is
        assert all(code not in str(user.recovery_codes) for code in codes)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_enabled"))
        subjects = db.session.scalars(select(Message.subject).where(Message.template == "security_notice")).all()
        assert any("double authentification a été activée" in s for s in subjects)


def test_login_asks_for_the_code_after_the_password(app, client, demo):
    login(client, "fournisseur@vigie.test")
    secret, _codes = _enable(client)
    stranger, first = _login_steps(app, "fournisseur@vigie.test")
    assert first.status_code == 303 and first.headers["Location"].startswith("/login/two-factor")
    assert stranger.get("/team").status_code == 303  # the password alone opens nothing
    token = token_for(stranger, "/login/two-factor")
    wrong = stranger.post("/login/two-factor", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code == 422 and "Code incorrect" in _text(wrong)
    code = _code_for_next_step(secret)
    right = stranger.post("/login/two-factor", data={"code": code, "csrf_token": token})
    assert right.status_code == 303 and stranger.get("/team").status_code == 200
    # The same code, seen by someone over the shoulder, does not work a second time.
    _again, replayed = _login_steps(app, "fournisseur@vigie.test", code)
    assert replayed.status_code == 422


def test_a_recovery_code_works_once(app, client, demo):
    login(client, "fournisseur@vigie.test")
    _secret, codes = _enable(client)
    phone_lost, response = _login_steps(app, "fournisseur@vigie.test", codes[3].upper())
    assert response.status_code == 303
    assert "Il vous en reste 9" in _text(phone_lost.get("/"))
    assert phone_lost.get("/team").status_code == 200
    _again, reused = _login_steps(app, "fournisseur@vigie.test", codes[3])
    assert reused.status_code == 422


def test_remember_this_device_for_30_days(app, client, demo):
    login(client, "fournisseur@vigie.test")
    secret, _codes = _enable(client)
    browser, response = _login_steps(app, "fournisseur@vigie.test", _code_for_next_step(secret), trust_device="y")
    device = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("vigie_device="))
    assert "Max-Age=2592000" in device and "HttpOnly" in device
    post(browser, "/logout")
    assert login(browser, "fournisseur@vigie.test").headers["Location"] == "/"  # no code asked on this browser
    other = app.test_client()
    assert login(other, "fournisseur@vigie.test").headers["Location"].startswith("/login/two-factor")


def test_turning_two_factor_off_needs_the_password_and_a_code(app, client, demo):
    login(client, "fournisseur@vigie.test")
    secret, _codes = _enable(client)
    wrong = post(client, "/account/two-factor/disable", {"password": "non", "code": _code_for_next_step(secret)})
    assert wrong.status_code == 422 and "Mot de passe incorrect." in _text(wrong)
    post(client, "/account/two-factor/disable", {"password": DEMO_PASSWORD, "code": _code_for_next_step(secret)})
    assert "Désactivée." in _text(client.get("/account/security"))
    assert login(app.test_client(), "fournisseur@vigie.test").headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(app, client, demo):
    login(client, "fournisseur@vigie.test")
    secret, old = _enable(client)
    response = post(client, "/account/two-factor/recovery-codes", {"code": _code_for_next_step(secret)})
    new = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", _text(response))
    assert len(new) == 10 and not set(new) & set(old)
    _browser, refused = _login_steps(app, "fournisseur@vigie.test", old[0])
    assert refused.status_code == 422


def test_in_production_an_operator_without_two_factor_reaches_only_its_setup(make_app):
    from portal.demo.seed import seed_demo

    app = make_app(VIGIE_ENV="production")
    with app.app_context():
        seed_demo(with_documents=False)
    client = app.test_client()
    assert login(client, "operateur@vigie.test").status_code == 303
    for page in ("/", "/operations/review", "/operations/deliveries", "/team"):
        response = client.get(page)
        assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor/setup", page
    assert client.get("/account/two-factor/setup").status_code == 200
    _enable(client)
    assert client.get("/operations/review").status_code == 200
    # Other users are not forced.
    supplier = app.test_client()
    login(supplier, "fournisseur@vigie.test")
    assert supplier.get("/team").status_code == 200


def test_in_development_the_demo_operator_logs_in_with_a_banner(app, client, demo):
    login(client, "operateur@vigie.test")
    page = _text(client.get("/operations/review"))
    assert 'id="two-factor-banner"' in page and "Activez la double authentification" in page
    login(app.test_client(), "fournisseur@vigie.test")
    supplier = app.test_client()
    login(supplier, "fournisseur@vigie.test")
    assert 'id="two-factor-banner"' not in _text(supplier.get("/"))
