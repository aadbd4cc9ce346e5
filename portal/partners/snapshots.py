"""The daily compliance snapshot and the client's compliance rate over the last twelve months.

``take()`` (the ``snapshot_compliance`` job, every morning after the expiry sweep) writes, for every
accepted partnership, its status that day. Run twice the same day it replaces that day's rows (the
later state wins); earlier days are never touched. The curve is read from these rows: a month
without a snapshot says so, it is never filled in from today's documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, insert, literal, select

from portal.core import clock
from portal.core.extensions import db
from portal.models import ComplianceSnapshot, Partnership


def take(on: date | None = None) -> int:
    """Snapshot every accepted partnership's status for the day (Paris); returns how many rows."""
    on = on or clock.today()
    db.session.execute(delete(ComplianceSnapshot).where(ComplianceSnapshot.day == on))
    source = select(
        literal(on).label("day"),
        Partnership.id,
        Partnership.requester_id,
        Partnership.target_id,
        Partnership.compliance_status,
    ).where(Partnership.status == "accepted")
    db.session.execute(
        insert(ComplianceSnapshot).from_select(["day", "partnership_id", "client_id", "supplier_id", "status"], source)
    )
    written = db.session.scalar(select(func.count()).where(ComplianceSnapshot.day == on))
    db.session.commit()
    return written


@dataclass(frozen=True)
class MonthPoint:
    month: date  # its first day
    day: date | None  # the snapshot read: the month's last one (None: no snapshot that month)
    total: int = 0
    compliant: int = 0

    @property
    def rate(self) -> int | None:
        """Per cent of the suppliers compliant that day, rounded; None when unknown."""
        if self.day is None or not self.total:
            return None
        return round(100 * self.compliant / self.total)


def months_back(today: date, count: int = 12) -> list[date]:
    """The first days of the last ``count`` months, the oldest first, this month last."""
    months = [today.replace(day=1)]
    while len(months) < count:
        first = months[-1]
        months.append(
            first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
        )
    return months[::-1]


def monthly_rate(client_id: int, today: date | None = None) -> list[MonthPoint]:
    """The client's compliance rate at the last snapshot of each of the last twelve months (one query)."""
    today = today or clock.today()
    months = months_back(today)
    rows = db.session.execute(
        select(
            ComplianceSnapshot.day,
            func.count(),
            func.coalesce(func.sum(case((ComplianceSnapshot.status == "compliant", 1), else_=0)), 0),
        )
        .where(
            ComplianceSnapshot.client_id == client_id,
            ComplianceSnapshot.day >= months[0],
            ComplianceSnapshot.day <= today,
        )
        .group_by(ComplianceSnapshot.day)
    ).all()
    last_of_month: dict[date, tuple] = {}
    for day, total, compliant in rows:
        key = day.replace(day=1)
        if key not in last_of_month or last_of_month[key][0] < day:
            last_of_month[key] = (day, total, compliant)
    return [
        MonthPoint(month, *last_of_month[month]) if month in last_of_month else MonthPoint(month, None)
        for month in months
    ]
