"""Inviting people into an organisation, and accepting an invitation (signed, single-use, 14 days)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager

from portal.accounts.sessions import find_user, log_in
from portal.core import audit, clock, tokens
from portal.core.extensions import db
from portal.core.tenancy import SESSION_KEY, Tenancy
from portal.messaging import notifications
from portal.models import FollowUp, Invitation, Membership, Organisation, User, utcnow

DECLINE = "decline"  # the signed link's purpose: "je ne connais pas cette entreprise" (notifications)


class InvitationError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


def invite_from_form(tenancy: Tenancy, inviter: User, form) -> Invitation:
    """The invitation a team form describes (``email``, ``role``, ``first_name``, ``last_name``):
    the team page and the firm's "La gestion d'équipe" both send it."""
    return invite(
        tenancy,
        inviter,
        form.email.data,
        role=form.role.data,
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
    )


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
    reminder: int = 0,
) -> None:
    """Email the invitation link; ``requester`` is the company asking to connect, for a new company;
    ``firm`` the accounting firm inviting its client's executive; ``reminder``: its follow-up step.
    Those two say who invited and carry a link to refuse ("je ne connais pas cette entreprise")."""
    token = tokens.make("invitation", {"iid": invitation.id})
    template = "executive_invitation" if firm else "partner_invitation" if requester else "invitation"
    decline = (
        url_for("notifications.decline", token=tokens.make(DECLINE, {"iid": invitation.id}), _external=True)
        if firm or requester
        else None
    )
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
        reminder=reminder,
        decline=decline,
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
    # An executive's invitation stops following up now (a partner request goes on until answered).
    db.session.execute(
        update(FollowUp)
        .where(
            FollowUp.invitation_id == invitation.id, FollowUp.partnership_id.is_(None), FollowUp.stopped_at.is_(None)
        )
        .values(stopped_at=clock.stored_now(), stop_reason="accepted", next_on=None)
    )
    audit.record(
        "invitation.accepted", user_id=user.id, organisation_id=invitation.organisation_id, invitation_id=invitation.id
    )
    db.session.commit()
    log_in(user)
    session[SESSION_KEY] = invitation.organisation_id
    return user
