"""What the home page shows to a logged-in user, computed before rendering."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.firm import consent
from portal.models import Invitation, LinkRequest, Membership, Partnership, User, utcnow
from portal.partners import links, requirements
from portal.partners import partnerships as partners


@dataclass(frozen=True)
class Summary:
    user: User
    tenancy: Tenancy
    member_count: int
    open_invitations: int


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
    return Summary(user, tenancy, member_count, open_invitations)


@dataclass(frozen=True)
class PendingTab:
    """ "Partenaires à confirmer": connection requests and link requests waiting for us."""

    partnerships: list[Partnership]
    link_requests: list[LinkRequest]
    asked: dict
    firm_requests: list = ()
    keeping: set = frozenset()  # requesters that keep a file: accepting lets us read it

    @property
    def count(self) -> int:
        return len(self.partnerships) + len(self.link_requests) + len(self.firm_requests)


def pending_tab(tenancy: Tenancy) -> PendingTab:

    pending = partners.pending_for(tenancy)
    return PendingTab(
        pending,
        links.pending_for(tenancy),
        requirements.asked_by([p.requester_id for p in pending], tenancy.organisation.id),
        consent.pending_for(tenancy),
        partners.keeping_a_file({p.requester_id for p in pending}),
    )


def lands_on_firm_space(tenancy: Tenancy, tab: PendingTab) -> bool:
    """A company that uses Vigie only as its accounting firm's client (its executive, his employees)
    opens on "Espace cabinet", unless something waits for an answer on the dashboard."""
    organisation = tenancy.organisation
    if not tenancy.has_firm_space or tab.count:
        return False
    if organisation.is_supplier or organisation.is_agency or organisation.is_accounting_firm:
        return False
    if tenancy.role == "operator":
        return False
    return not db.session.scalar(
        select(
            select(Partnership.id)
            .where((Partnership.requester_id == organisation.id) | (Partnership.target_id == organisation.id))
            .exists()
        )
    )
