"""« Qui m'a invité ? »: every company that asked to see the active company's file, who asked,
when, what it requires, and where its reminders stand (paused or not)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import DocumentType, Organisation, Partnership, ReminderPause, User
from portal.notifications import pauses
from portal.partners import requirements


@dataclass(frozen=True)
class Inviter:
    partnership: Partnership
    company: Organisation
    asked_by: User | None
    requires: list[DocumentType]
    pause: ReminderPause | None

    @property
    def paused(self) -> bool:
        return pauses.is_active(self.pause)


def of(tenancy: Tenancy) -> list[Inviter]:
    """Pending requests first, then the live relationships (three queries)."""
    person = aliased(User)
    rows = db.session.execute(
        select(Partnership, Organisation, person)
        .join(Organisation, Organisation.id == Partnership.requester_id)
        .outerjoin(person, person.id == Partnership.requested_by_id)
        .where(Partnership.target_id == tenancy.organisation.id, Partnership.status.in_(("pending", "accepted")))
        .order_by(Partnership.status != "pending", Organisation.legal_name)
    ).all()
    asked = requirements.asked_by([company.id for _, company, _ in rows], tenancy.organisation.id)
    latest = pauses.latest([partnership.id for partnership, _, _ in rows])
    return [
        Inviter(partnership, company, user, asked.get(company.id, []), latest.get(partnership.id))
        for partnership, company, user in rows
    ]
