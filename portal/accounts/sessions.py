"""Logging in and out, and resetting a forgotten password."""

from __future__ import annotations

from flask import current_app, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core import audit, tokens
from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import User, normalise_email, utcnow

_DUMMY_HASH = generate_password_hash("vigie-timing-equaliser", method="scrypt")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches; the same work is done whether the email exists or not."""
    user = find_user(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def log_in(user: User, remember: bool = False) -> None:
    """Start a fresh session for the user: only a language chosen on the login page carries over."""
    chosen_language = session.get("language")
    session.clear()
    if chosen_language:
        user.language = chosen_language
    login_user(user, remember=remember, fresh=True)
    user.last_login_at = utcnow()
    audit.record("user.logged_in", user_id=user.id)
    db.session.commit()


def log_out(user_id: int | None) -> None:
    if user_id is not None:
        audit.record("user.logged_out", user_id=user_id)
        db.session.commit()
    logout_user()
    session.clear()


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists; say nothing either way."""
    user = find_user(email)
    if user is None or not user.active:
        return
    token = tokens.make("password-reset", {"uid": user.id, "fp": tokens.fingerprint(user.password_hash)})
    notifications.queue_email(
        user.email,
        "password_reset",
        language=user.language,
        user=user,
        link=url_for("auth.reset_password", token=token, _external=True),
        hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
    )
    audit.record("user.password_reset_requested", user_id=user.id)
    db.session.commit()


def user_for_reset(token: str) -> User:
    data = tokens.read("password-reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    # The fingerprint of the current hash makes the link single use: it dies with the old password.
    if user is None or tokens.fingerprint(user.password_hash) != data.get("fp"):
        raise tokens.InvalidToken()
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset(token)
    user.set_password(password)
    audit.record("user.password_reset", user_id=user.id)
    db.session.commit()
    return user
