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
from portal.messaging import notifications
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


def owners(organisation_ids: set[int]) -> dict[int, list[User]]:
    """The owners of several organisations (one query): who gets the company's emails."""
    if not organisation_ids:
        return {}
    found: dict[int, list[User]] = {}
    for membership, user in db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id.in_(organisation_ids), Membership.role == "owner")
    ):
        found.setdefault(membership.organisation_id, []).append(user)
    return found


def tell_owners(organisation_id: int, template: str, **context) -> None:
    """Queue an email to each owner of an organisation, in his language (after commit)."""
    for owner in owners({organisation_id}).get(organisation_id, []):
        notifications.queue_email(
            owner.email, template, language=owner.language, organisation_id=organisation_id, user=owner, **context
        )


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
