"""What the home page shows to a logged-in user, computed before rendering."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invitation, Membership, Message, User, utcnow
from portal.services.tenancy import Tenancy


@dataclass(frozen=True)
class Summary:
    user: User
    tenancy: Tenancy
    member_count: int
    open_invitations: int
    failed_messages: int | None


def summary_for(user: User, tenancy: Tenancy) -> Summary:
    organisation_id = tenancy.organisation.id
    member_count = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organisation_id == organisation_id)
    )
    open_invitations = db.session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.organisation_id == organisation_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    failed = None
    if tenancy.role == "operator":
        failed = db.session.scalar(select(func.count()).select_from(Message).where(Message.status == "failed"))
    return Summary(user, tenancy, member_count, open_invitations, failed)
