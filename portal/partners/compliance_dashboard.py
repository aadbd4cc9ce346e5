"""The client's view of its suppliers' compliance: filters, search, pages and CSV, in fixed queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from portal.core import clock
from portal.core.extensions import db
from portal.core.spreadsheets import csv_text
from portal.core.tenancy import Tenancy
from portal.models import Organisation, Partnership

STATUSES = ("compliant", "incomplete", "expired", "in_review")
STATUS_LABELS_FR = {"compliant": "Conforme", "incomplete": "Incomplet", "expired": "Expiré", "in_review": "En attente"}
PER_PAGE = 50
# The duty of vigilance: "missed" (en défaut at the latest checkpoint), "due" (a checkpoint within
# the next DUE_DAYS days).
VIGILANCE_FILTERS = ("missed", "due")
DUE_DAYS = 30
VIGILANCE_LABELS_FR = {
    "met": "Respectée",
    "late": "Documents obtenus en retard",
    "checking": "Vérification en cours",
    "missed": "En défaut",
}


@dataclass(frozen=True)
class DashboardPage:
    rows: list  # (id, legal_name, siren, compliance_status, expiring_count) rows
    total: int
    counts: dict[str, int]
    page: int
    pages: int


def _query(tenancy: Tenancy, status: str | None, search: str | None, expiring: bool = False, vigilance=None):
    query = (
        select(Partnership, Organisation)
        .join(Organisation, Organisation.id == Partnership.target_id)
        .where(Partnership.requester_id == tenancy.organisation.id, Partnership.status == "accepted")
    )
    if status in STATUSES:
        query = query.where(Partnership.compliance_status == status)
    if expiring:  # a document expiring within 30 days ("Tableau de bord")
        query = query.where(Partnership.expiring_count > 0)
    if vigilance == "missed":
        query = query.where(Partnership.vigilance_status == "missed")
    elif vigilance == "due":
        today = clock.today()
        query = query.where(Partnership.next_checkpoint_on.between(today, today + timedelta(days=DUE_DAYS)))
    if search:
        text = search.strip()
        compact = "".join(text.split())
        if compact.isascii() and compact.isdigit():
            query = query.where(Organisation.siren.startswith(compact[:9]))
        else:
            query = query.where(func.lower(Organisation.legal_name).contains(text.lower()))
    return query


def page(
    tenancy: Tenancy,
    *,
    status: str | None,
    search: str | None,
    number: int,
    expiring: bool = False,
    vigilance: str | None = None,
) -> DashboardPage:
    """One page of suppliers and the count per status: two queries (three with a search)."""
    number = max(number, 1)
    counts = dict(
        db.session.execute(
            select(Partnership.compliance_status, func.count())
            .where(Partnership.requester_id == tenancy.organisation.id, Partnership.status == "accepted")
            .group_by(Partnership.compliance_status)
        ).all()
    )
    vigilance = vigilance if vigilance in VIGILANCE_FILTERS else None
    query = _query(tenancy, status, search, expiring, vigilance)
    if search or expiring or vigilance:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    else:
        total = counts.get(status, 0) if status in STATUSES else sum(counts.values())
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    number = min(number, pages)
    # Plain rows of the five columns shown, not ORM objects: 50 of them per page, read once.
    columns = query.with_only_columns(
        Organisation.id,
        Organisation.legal_name,
        Organisation.siren,
        Partnership.compliance_status,
        Partnership.expiring_count,
        Partnership.vigilance_status,
        Partnership.next_checkpoint_on,
    )
    rows = db.session.execute(
        columns.order_by(Organisation.legal_name, Organisation.id).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    ).all()
    return DashboardPage(list(rows), total, counts, number, pages)


def csv_export(
    tenancy: Tenancy, *, status: str | None, search: str | None, expiring: bool = False, vigilance: str | None = None
) -> str:
    """All matching suppliers as CSV for a French spreadsheet (semicolons, UTF-8 with BOM)."""
    vigilance = vigilance if vigilance in VIGILANCE_FILTERS else None
    rows = db.session.execute(
        _query(tenancy, status, search, expiring, vigilance).order_by(Organisation.legal_name, Organisation.id)
    )
    return csv_text(
        [
            "Raison sociale",
            "SIREN",
            "Ville",
            "Statut",
            "Documents expirant sous 30 jours",
            "Partenaire depuis",
            "Vigilance légale",
            "Prochaine échéance légale",
        ],
        (
            [
                organisation.legal_name,
                organisation.siren,
                organisation.city,
                STATUS_LABELS_FR[partnership.compliance_status],
                partnership.expiring_count,
                partnership.decided_at.strftime("%d/%m/%Y") if partnership.decided_at else "",
                VIGILANCE_LABELS_FR.get(partnership.vigilance_status, "Non applicable"),
                partnership.next_checkpoint_on.strftime("%d/%m/%Y") if partnership.next_checkpoint_on else "",
            ]
            for partnership, organisation in rows
        ),
        bom=True,
    )
