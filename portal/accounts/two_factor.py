"""Two-factor authentication: a TOTP app (RFC 6238, via pyotp), ten single-use recovery codes,
and "se souvenir de cet appareil" for 30 days.

- Setting it up: a secret is drawn and kept in the session until the user types a code his app
  shows for it; only then is it saved (sealed, ``core.secrets``) and the recovery codes shown, once.
- Logging in: after the password, a user with 2FA is asked for a code (or a recovery code) unless
  this browser carries a trusted-device cookie for his current secret. A TOTP code works once.
- Every change is audited and emailed; turning it on ends the user's other sessions.
- Operators (they see every company's documents) must have it in production.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from flask import current_app, request, session
from sqlalchemy.orm.attributes import flag_modified

from portal.accounts import sessions
from portal.core import audit, tokens
from portal.core.extensions import db
from portal.core.secrets import open_sealed, seal
from portal.models import User, utcnow

ISSUER = "Vigie"
RECOVERY_CODES = 10
DEVICE_COOKIE = "vigie_device"
DEVICE_DAYS = 30
PENDING_KEY = "vigie_pending_login"
PENDING_SECONDS = 300  # the password step is valid five minutes
SETUP_KEY = "vigie_totp_setup"


class WrongCode(Exception):
    pass


# --- setting up ------------------------------------------------------------------------------


def setup_secret() -> str:
    """The secret being set up in this session (a new one the first time)."""
    if not session.get(SETUP_KEY):
        session[SETUP_KEY] = pyotp.random_base32()
    return session[SETUP_KEY]


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_png(uri: str) -> bytes:
    output = io.BytesIO()
    segno.make(uri, error="m").save(output, kind="png", scale=6, border=4)
    return output.getvalue()


def enable(user: User, code: str) -> list[str]:
    """Turn 2FA on with the secret being set up, once the user proved his app has it; returns the
    recovery codes, to be shown this once."""
    secret = session.get(SETUP_KEY)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        raise WrongCode()
    user.totp_secret = seal({"totp": secret})
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    session.pop(SETUP_KEY, None)
    if user.session_row is not None:
        user.session_row.second_factor_at = utcnow()
    ended = sessions.end_all(user.id, "two_factor_enabled", keep=user.session_row.id if user.session_row else None)
    audit.record("user.two_factor_enabled", user_id=user.id, sessions_ended=ended)
    sessions.tell(user, "two_factor_enabled")
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str) -> None:
    if not user.check_password(password):
        raise sessions.WrongPassword()
    if verify(user, code) is None:
        raise WrongCode()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = []
    audit.record("user.two_factor_disabled", user_id=user.id)
    sessions.tell(user, "two_factor_disabled")
    db.session.commit()


def renew_recovery_codes(user: User, code: str) -> list[str]:
    if verify(user, code, allow_recovery=False) is None:
        raise WrongCode()
    codes = _new_recovery_codes(user)
    audit.record("user.recovery_codes_renewed", user_id=user.id)
    sessions.tell(user, "recovery_codes_renewed")
    db.session.commit()
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    codes = [_format(secrets.token_hex(5)) for _ in range(RECOVERY_CODES)]  # 40 random bits each
    user.recovery_codes = [_code_hash(user, code) for code in codes]
    return codes


def _format(raw: str) -> str:
    return f"{raw[:5]}-{raw[5:]}"


def _code_hash(user: User, code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{user.id}:{normal}".encode(), hashlib.sha256).hexdigest()


# --- checking a code ---------------------------------------------------------------------------


def _secret(user: User) -> str | None:
    return open_sealed(user.totp_secret).get("totp") if user.totp_secret else None


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step whose code this is (the current one, or one either side for clocks a
    little off), or None."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


def verify(user: User, code: str, *, allow_recovery: bool = True) -> str | None:
    """ "totp" or "recovery" when ``code`` is right (and uses it up), None otherwise."""
    secret = _secret(user)
    if secret is None:
        return None
    step = _matching_step(secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None  # a code seen already (replayed, or typed twice)
        user.totp_last_step = step
        return "totp"
    if not allow_recovery:
        return None
    wanted = _code_hash(user, code or "")
    for stored in list(user.recovery_codes or []):
        if hmac.compare_digest(stored, wanted):
            user.recovery_codes = [c for c in user.recovery_codes if c != stored]
            flag_modified(user, "recovery_codes")
            audit.record("user.recovery_code_used", user_id=user.id, left=len(user.recovery_codes))
            sessions.tell(user, "recovery_code_used")
            return "recovery"
    return None


# --- logging in ----------------------------------------------------------------------------------


def begin(user: User, remember: bool) -> None:
    """The password was right: remember who is half-way through logging in (five minutes)."""
    session[PENDING_KEY] = {"uid": user.id, "remember": bool(remember), "at": int(time.time())}


def pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("uid"))
    return user if user is not None and user.active and user.two_factor_enabled else None


def pending_remember() -> bool:
    return bool((session.get(PENDING_KEY) or {}).get("remember"))


def device_token(user: User) -> str:
    return tokens.make("trusted-device", {"uid": user.id, "fp": tokens.fingerprint(user.totp_secret)})


def trusted_device(user: User) -> bool:
    """This browser was trusted for 30 days for the user's current secret (a new secret, or 2FA
    turned off and on again, forgets every trusted browser)."""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return False
    try:
        data = tokens.read("trusted-device", token, DEVICE_DAYS * 24 * 3600)
    except tokens.InvalidToken:
        return False
    return data.get("uid") == user.id and data.get("fp") == tokens.fingerprint(user.totp_secret)


def missing_for_operator(user: User, memberships) -> bool:
    """An operator (they see every company's documents) without 2FA: in production he is sent to
    set it up and reaches nothing else; in development he sees a banner."""
    operator = any(m.role == "operator" and m.organisation.is_operator for m in memberships)
    return operator and not user.two_factor_enabled


# What an operator without 2FA may still reach in production.
OPEN_ENDPOINTS = {"security.page", "security.setup", "security.qr", "auth.logout", "static", "main.set_language"}
