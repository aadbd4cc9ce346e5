"""Logging in and out, server-side sessions, and resetting a forgotten password.

Every login is a ``UserSession`` row; the cookie (and the remember-me cookie) carries the user's id
and a random token whose hash names that row, checked on every request. Logging out ends that
session; a password change or reset ends all of them; an operator can end a user's sessions. A
session lasts ``SESSION_HOURS`` (a browser session), or ``REMEMBER_DAYS`` with "Rester connecté".
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core import audit, tokens
from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import User, UserSession, normalise_email, utcnow

_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made with the configured method: an unknown email costs what a wrong password does."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("vigie-timing-equaliser", method=method)
    return _DUMMY_HASHES[method]


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches; the same work is done whether the email exists or not."""
    user = find_user(email)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load(cookie_id: str) -> User | None:
    """Flask-Login's loader: ``"<user id>.<token>"`` from the session or the remember-me cookie."""
    from portal.core import tenancy

    user_id, _, token = (cookie_id or "").partition(".")
    if not user_id.isdigit() or len(user_id) > 12 or not token or len(token) > 100:
        return None
    user = tenancy.load_user(int(user_id), key_hash(token), utcnow())
    if user is not None:
        user.session_token = token
    return user


def start_session(user: User, remember: bool) -> UserSession:
    token = secrets.token_urlsafe(32)
    config = current_app.config
    lifetime = timedelta(days=config["REMEMBER_DAYS"]) if remember else timedelta(hours=config["SESSION_HOURS"])
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        created_at=now,
        key_hash=key_hash(token),
        expires_at=now + lifetime,
        remember=remember,
        user_agent=(request.user_agent.string or "")[:200],
        ip_address=request.remote_addr,
    )
    db.session.add(row)
    db.session.flush()
    user.session_token, user.session_row = token, row
    return row


def log_in(user: User, remember: bool = False, *, second_factor: bool = False) -> None:
    """Start a fresh session for the user: only a language chosen on the login page carries over.
    ``second_factor``: the login passed the TOTP step (or came from a trusted device)."""
    chosen_language = session.get("language")
    session.clear()
    if chosen_language:
        user.language = chosen_language
    row = start_session(user, remember)
    if second_factor:
        row.second_factor_at = utcnow()
    login_user(user, remember=remember, duration=timedelta(days=current_app.config["REMEMBER_DAYS"]), fresh=True)
    user.last_login_at = utcnow()
    audit.record("user.logged_in", user_id=user.id, remember=remember)
    db.session.commit()


def log_out(user: User | None) -> None:
    """End this browser's session, server side: a copy of its cookie opens nothing any more."""
    if user is not None and getattr(user, "id", None) is not None:
        if user.session_row is not None:
            end(user.session_row.id, "logout")
        audit.record("user.logged_out", user_id=user.id)
        db.session.commit()
    logout_user()
    session.clear()


def end(session_id: int, reason: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def end_all(user_id: int, reason: str, *, keep: int | None = None) -> int:
    """End every open session of the user (but ``keep``); returns how many were ended."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return db.session.execute(query.values(ended_at=utcnow(), end_reason=reason)).rowcount


def end_others(user: User) -> int:
    """ "Fermer toutes mes autres sessions": every session of the user but this one."""
    ended = end_all(user.id, "ended_by_user", keep=user.session_row.id if user.session_row else None)
    audit.record("user.sessions_ended", user_id=user.id, sessions_ended=ended, by="self")
    db.session.commit()
    return ended


def open_sessions(user_id: int) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.expires_at > utcnow())
            .order_by(UserSession.created_at.desc())
        )
    )


def count_open(user_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(UserSession.user_id, func.count())
        .where(UserSession.user_id.in_(user_ids), UserSession.ended_at.is_(None), UserSession.expires_at > utcnow())
        .group_by(UserSession.user_id)
    ).all()
    return dict(rows)


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
    ended = end_all(user.id, "password_reset")
    audit.record("user.password_reset", user_id=user.id, sessions_ended=ended)
    db.session.commit()
    return user


class WrongPassword(Exception):
    pass


def change_password(user: User, current: str, new: str) -> int:
    """A logged-in user's new password: every other session ends (this one goes on)."""
    if not user.check_password(current):
        raise WrongPassword()
    user.set_password(new)
    ended = end_all(user.id, "password_changed", keep=user.session_row.id if user.session_row else None)
    audit.record("user.password_changed", user_id=user.id, sessions_ended=ended)
    tell(user, "password_changed")
    db.session.commit()
    return ended


SECURITY_EVENTS = {
    "password_changed": _l("votre mot de passe a été changé"),
    "sessions_ended": _l("un opérateur Vigie a mis fin à toutes vos sessions"),
    "two_factor_enabled": _l("la double authentification a été activée"),
    "two_factor_disabled": _l("la double authentification a été désactivée"),
    "recovery_codes_renewed": _l("de nouveaux codes de secours ont été générés, les anciens ne marchent plus"),
    "recovery_code_used": _l("un code de secours a été utilisé pour vous connecter"),
}


def tell(user: User, event: str) -> None:
    """Email the user about a change to his account's security (in his language)."""
    from flask_babel import force_locale

    with force_locale(user.language):
        what = str(SECURITY_EVENTS[event])
    notifications.queue_email(user.email, "security_notice", language=user.language, user=user, what=what)


def find_for_operator(operator_tenancy, email: str) -> tuple[User | None, int]:
    """An operator looks a user up by email: the user and how many sessions he has open."""
    operator_tenancy.require_operator()
    user = find_user(email) if email else None
    return user, (count_open([user.id]).get(user.id, 0) if user else 0)


def end_by_operator(operator_tenancy, operator: User, user_id: int) -> int:
    """ "Mettre fin à ses sessions": a stolen cookie, a lost laptop. Audited, and the user told."""
    operator_tenancy.require_operator()
    user = db.session.get(User, user_id)
    if user is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    ended = end_all(user.id, "ended_by_operator")
    audit.record(
        "user.sessions_ended", user_id=operator.id, target_user_id=user.id, sessions_ended=ended, by="operator"
    )
    tell(user, "sessions_ended")
    db.session.commit()
    return ended
