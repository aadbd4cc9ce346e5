"""The people of the active organisation: members and pending invitations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import NotFound

from portal.accounts import invitations
from portal.core import audit
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import Invitation, Membership, User, utcnow


@dataclass(frozen=True)
class Team:
    members: list[Membership]
    invitations: list[Invitation]


def team_of(tenancy: Tenancy) -> Team:
    organisation_id = tenancy.organisation.id
    members = db.session.scalars(
        select(Membership)
        .join(Membership.user)
        .options(contains_eager(Membership.user))
        .where(Membership.organisation_id == organisation_id)
        .order_by(User.last_name, User.first_name, User.email)
    ).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.organisation_id == organisation_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    ).all()
    return Team(members=list(members), invitations=list(invitations))


def _own_invitation(tenancy: Tenancy, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != tenancy.organisation.id or not invitation.is_open:
        raise NotFound()
    return invitation


def revoke(tenancy: Tenancy, actor: User, invitation_id: int) -> Invitation:
    tenancy.require_role("owner")
    invitation = _own_invitation(tenancy, invitation_id)
    invitation.revoked_at = utcnow()
    audit.record(
        "invitation.revoked", user_id=actor.id, organisation_id=tenancy.organisation.id, invitation_id=invitation.id
    )
    db.session.commit()
    return invitation


def resend(tenancy: Tenancy, actor: User, invitation_id: int) -> Invitation:
    tenancy.require_role("owner")
    invitation = _own_invitation(tenancy, invitation_id)
    invitations.send_invitation(invitation, tenancy.organisation, actor)
    audit.record(
        "invitation.resent", user_id=actor.id, organisation_id=tenancy.organisation.id, invitation_id=invitation.id
    )
    db.session.commit()
    return invitation
