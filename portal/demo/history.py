"""A year of compliance snapshots for the demo's clients, so the home page's 12-month curve shows.

Invented, and said so in the README: in a real deployment the curve starts the first day the
``snapshot_compliance`` job runs. One snapshot per partnership at the end of each of the last eleven
months, then today's, taken by the job's own code from the partnerships' current states.
"""

from __future__ import annotations

import calendar
import random

from sqlalchemy import insert, select

from portal.core import clock
from portal.core.extensions import db
from portal.models import ComplianceSnapshot, Partnership
from portal.partners import snapshots

# How many suppliers were compliant at each past month-end, as a share of today's number, the
# oldest first: a client whose suppliers' files got better over the year.
PAST_SHARES = (0.55, 0.6, 0.6, 0.65, 0.7, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
OTHER_STATES = ("incomplete", "expired", "in_review")


def seed_compliance_history() -> None:
    if db.session.scalar(select(ComplianceSnapshot.id).limit(1)):
        return
    today = clock.today()
    partnerships = db.session.execute(
        select(Partnership.id, Partnership.requester_id, Partnership.target_id, Partnership.compliance_status)
        .where(Partnership.status == "accepted")
        .order_by(Partnership.id)
    ).all()
    by_client: dict[int, list] = {}
    for row in partnerships:
        by_client.setdefault(row.requester_id, []).append(row)
    rows = []
    pick = random.Random(20261201)  # the same demo every time
    months = snapshots.months_back(today)[:-1]
    for month, share in zip(months, PAST_SHARES, strict=True):
        day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        for group in by_client.values():
            compliant_now = sum(1 for row in group if row.compliance_status == "compliant")
            compliant = set(pick.sample(range(len(group)), round(share * compliant_now)))
            for index, (partnership_id, client_id, supplier_id, _status) in enumerate(group):
                status = "compliant" if index in compliant else pick.choice(OTHER_STATES)
                rows.append(
                    {
                        "day": day,
                        "partnership_id": partnership_id,
                        "client_id": client_id,
                        "supplier_id": supplier_id,
                        "status": status,
                    }
                )
    if rows:
        db.session.execute(insert(ComplianceSnapshot), rows)
    db.session.commit()
    snapshots.take(today)
