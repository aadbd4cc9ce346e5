"""Each role's home ("Tableau de bord"): what needs doing first, in a fixed number of queries.

A company may hold several roles (Demolitor SAS buys and supplies): it gets each of its sections,
in this order: supplier, client, agency, accounting firm, operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select, true

from portal.contracts import campaigns, manage
from portal.core import clock
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.documents import compliance, review
from portal.firm import access
from portal.models import (
    ClientFile,
    FolderDocument,
    ImportBatch,
    Invitation,
    Message,
    Partnership,
    User,
    utcnow,
)
from portal.partners import snapshots
from portal.partners.compliance_dashboard import STATUSES


@dataclass(frozen=True)
class SupplierHome:
    state: str  # compliant, in_review, incomplete, expired (what partners see)
    to_update: int  # the orange tab's count
    next_expiry: compliance.FileRow | None  # the required document that expires first


@dataclass(frozen=True)
class ClientHome:
    counts: dict[str, int]  # suppliers by compliance status (accepted partnerships)
    expiring_suppliers: int  # suppliers with a document expiring within 30 days
    expiring_documents: int
    months: list[snapshots.MonthPoint]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def known_months(self) -> int:
        return sum(1 for point in self.months if point.rate is not None)


@dataclass(frozen=True)
class AgencyHome:
    unsigned: int  # contracts of this month awaiting signature
    overdue: int  # of which the 48 hours are over
    last_campaign: campaigns.HistoryRow | None


@dataclass(frozen=True)
class FirmHome:
    unopened_uploads: int  # documents the clients sent that nobody at the firm opened
    files_with_uploads: int
    pending_invitations: int  # executives invited who have not accepted
    running_imports: int


@dataclass(frozen=True)
class OperatorHome:
    queue: int
    oldest: datetime | None  # when the oldest document awaiting a decision was sent
    failed_messages: int

    @property
    def oldest_days(self) -> int | None:
        return None if self.oldest is None else max((utcnow() - self.oldest).days, 0)


@dataclass(frozen=True)
class Home:
    supplier: SupplierHome | None = None
    client: ClientHome | None = None
    agency: AgencyHome | None = None
    firm: FirmHome | None = None
    operator: OperatorHome | None = None


def supplier_home(tenancy: Tenancy) -> SupplierHome:
    """The file's state, the orange tab's count and the next expiry (the file's two queries)."""
    file = compliance.load(tenancy.organisation)
    state, _expiring = compliance.summary(file)
    today = clock.today()
    dated = [
        row
        for row in file.rows
        if row.required and row.active is not None and row.active.valid_until and row.active.valid_until >= today
    ]
    following = min(dated, key=lambda row: row.active.valid_until, default=None)
    return SupplierHome(state, len(file.pending), following)


def client_home(tenancy: Tenancy, today: date | None = None) -> ClientHome:
    """Suppliers by status and those expiring soon (one query), the 12-month curve (one query)."""
    organisation_id = tenancy.organisation.id
    counts = {status: 0 for status in STATUSES}
    suppliers = documents = 0
    for status, count, with_expiring, expiring in db.session.execute(
        select(
            Partnership.compliance_status,
            func.count(),
            func.coalesce(func.sum(case((Partnership.expiring_count > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(Partnership.expiring_count), 0),
        )
        .where(Partnership.requester_id == organisation_id, Partnership.status == "accepted")
        .group_by(Partnership.compliance_status)
    ):
        counts[status] = counts.get(status, 0) + count
        suppliers += with_expiring
        documents += expiring
    return ClientHome(counts, suppliers, documents, snapshots.monthly_rate(organisation_id, today))


def agency_home(tenancy: Tenancy) -> AgencyHome:
    """This month's contracts awaiting signature and the overdue ones (one query), the last campaign."""
    counts = manage.counts(tenancy, manage.filters_from({}))
    last = campaigns.history(tenancy, limit=1)
    return AgencyHome(counts.contracts, counts.overdue, last[0] if last else None)


def firm_home(tenancy: Tenancy, user: User) -> FirmHome:
    """What the firm's member should look at, over the files he may open (three queries)."""
    mine = access.visible(tenancy, user.id)
    unopened, files = db.session.execute(
        select(func.count(FolderDocument.id), func.count(func.distinct(FolderDocument.client_file_id)))
        .join(ClientFile, ClientFile.id == FolderDocument.client_file_id)
        .where(mine, FolderDocument.new_to_firm)
    ).one()
    invitations = db.session.scalar(
        select(func.count(ClientFile.id))
        .join(Invitation, Invitation.id == ClientFile.executive_invitation_id)
        .where(
            mine,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    imports = db.session.scalar(
        select(func.count(ImportBatch.id)).where(
            ImportBatch.firm_id == tenancy.organisation.id,
            ImportBatch.status.in_(("queued", "running")),
            true() if access.is_admin(tenancy) else ImportBatch.user_id == user.id,
        )
    )
    return FirmHome(unopened, files, invitations, imports)


def operator_home(tenancy: Tenancy) -> OperatorHome:
    """The review queue's length and age (one query), failed deliveries (one query)."""
    count, oldest = review.queue_summary(tenancy)
    failed = db.session.scalar(select(func.count(Message.id)).where(Message.status == "failed"))
    return OperatorHome(count, oldest, failed)


def home_for(tenancy: Tenancy, user: User) -> Home:
    organisation = tenancy.organisation
    operator = tenancy.role == "operator"
    return Home(
        supplier=supplier_home(tenancy) if organisation.is_supplier and not operator else None,
        client=client_home(tenancy) if organisation.is_client and not operator else None,
        agency=agency_home(tenancy) if organisation.is_agency and not operator else None,
        firm=firm_home(tenancy, user) if organisation.is_accounting_firm and not operator else None,
        operator=operator_home(tenancy) if operator else None,
    )
