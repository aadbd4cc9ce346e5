"""What the home page shows to a logged-in user, computed before rendering."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invitation, LinkRequest, Membership, Message, Partnership, User, utcnow
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


@dataclass(frozen=True)
class PendingTab:
    """ "Partenaires à confirmer": connection requests and link requests waiting for us."""

    partnerships: list[Partnership]
    link_requests: list[LinkRequest]
    asked: dict

    @property
    def count(self) -> int:
        return len(self.partnerships) + len(self.link_requests)


def pending_tab(tenancy: Tenancy) -> PendingTab:
    from portal.services import links, partners, requirements

    pending = partners.pending_for(tenancy)
    return PendingTab(
        pending,
        links.pending_for(tenancy),
        requirements.asked_by([p.requester_id for p in pending], tenancy.organisation.id),
    )
