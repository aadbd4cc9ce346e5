"""Logging in, resetting a password, inviting people and accepting invitations."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import Invitation, Membership, Organisation, User, normalise_email, utcnow
from portal.services import audit, notifications, tokens
from portal.services.tenancy import SESSION_KEY, Tenancy

_DUMMY_HASH = generate_password_hash("vigie-timing-equaliser", method="scrypt")


class InvitationError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


def invite(
    tenancy: Tenancy, inviter: User, email: str, *, role: str = "member", first_name: str = "", last_name: str = ""
) -> Invitation:
    """Invite someone into the active organisation (owners only)."""
    tenancy.require_role("owner")
    organisation = tenancy.organisation
    invitation = new_invitation(organisation.id, email, inviter, role=role, first_name=first_name, last_name=last_name)
    send_invitation(invitation, organisation, inviter)
    audit.record(
        "invitation.sent", user_id=inviter.id, organisation_id=organisation.id, invitation_id=invitation.id, email=email
    )
    db.session.commit()
    return invitation


def invitation_expiry():
    """When an invitation sent (or sent again) now stops working."""
    return utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def new_invitation(
    organisation_id: int, email: str, inviter: User, *, role: str = "member", first_name: str = "", last_name: str = ""
) -> Invitation:
    """An invitation row with its id, not sent yet (caller sends and commits)."""
    invitation = Invitation(
        organisation_id=organisation_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        invited_by_id=inviter.id,
        expires_at=invitation_expiry(),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def send_invitation(
    invitation: Invitation,
    organisation: Organisation,
    inviter: User,
    requester: Organisation | None = None,
    firm: Organisation | None = None,
) -> None:
    """Email the invitation link; ``requester`` is the company asking to connect, for a new company;
    ``firm`` the accounting firm inviting its client's executive."""
    token = tokens.make("invitation", {"iid": invitation.id})
    template = "executive_invitation" if firm else "partner_invitation" if requester else "invitation"
    notifications.queue_email(
        invitation.email,
        template,
        firm=firm,
        organisation_id=organisation.id,
        organisation=organisation,
        requester=requester,
        inviter=inviter,
        invitation=invitation,
        link=url_for("auth.accept_invitation", token=token, _external=True),
        days=current_app.config["INVITATION_MAX_AGE"] // 86400,
    )


def invitation_for(token: str) -> tuple[Invitation, User | None]:
    """The open invitation behind a link, and the account that already uses its email if any."""
    try:
        data = tokens.read("invitation", token, current_app.config["INVITATION_MAX_AGE"])
    except tokens.InvalidToken as exc:
        raise InvitationError("expired" if exc.expired else "invalid") from exc
    invitation = db.session.scalar(
        select(Invitation)
        .join(Invitation.organisation)
        .options(contains_eager(Invitation.organisation))
        .where(Invitation.id == data.get("iid"))
    )
    if invitation is None:
        raise InvitationError("invalid")
    if invitation.accepted_at is not None:
        raise InvitationError("used")
    if invitation.revoked_at is not None:
        raise InvitationError("revoked")
    if invitation.expires_at <= utcnow():
        raise InvitationError("expired")
    return invitation, find_user(invitation.email)


def accept_invitation(token: str, password: str, *, first_name: str = "", last_name: str = "") -> User:
    """Join the organisation: a new account chooses its password, an existing one confirms it."""
    invitation, user = invitation_for(token)
    if user is None:
        user = User(
            email=invitation.email,
            first_name=first_name or invitation.first_name,
            last_name=last_name or invitation.last_name,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    elif not user.check_password(password):
        raise InvitationError("wrong-password")
    already = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id
        )
    )
    if already is None:
        db.session.add(Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role))
    invitation.accepted_at = utcnow()
    audit.record(
        "invitation.accepted", user_id=user.id, organisation_id=invitation.organisation_id, invitation_id=invitation.id
    )
    db.session.commit()
    log_in(user)
    session[SESSION_KEY] = invitation.organisation_id
    return user
