"""What a user will be sent, and when: the notices waiting for his next digests, and the expiry
reminders his companies' documents will bring (``Mes préférences → Notifications``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from portal.core import clock
from portal.core.extensions import db
from portal.core.labels import Localised
from portal.messaging import notices
from portal.models import Document, DocumentType, DocumentVersion, Membership, Organisation, User

HORIZON_DAYS = 62


@dataclass(frozen=True)
class Planned:
    day: date  # when it goes
    company: str
    line: str
    kind: str
    cadence: str
    predicted: bool  # a reminder to come, not yet made


def next_reminder_day(valid_until: date, today: date, before_days: list[int], every: int) -> date | None:
    """The next day after today the expiry sweep will remind this validity (see expiry.reminder_kind)."""
    for threshold in sorted(before_days, reverse=True):
        day = valid_until - timedelta(days=threshold)
        if day > today:
            return day
    weeks = max((today - valid_until).days // every + 1, 1)
    return valid_until + timedelta(days=weeks * every)


def upcoming(user: User) -> list[Planned]:
    today = clock.today()
    horizon = today + timedelta(days=HORIZON_DAYS)
    chosen = notices.preferences_of(user)
    companies = dict(
        db.session.execute(
            select(Organisation.id, Organisation.legal_name)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id, Membership.role == "owner")
        ).all()
    )
    planned = [
        Planned(day, companies.get(n.organisation_id, ""), n.line, n.kind, n.cadence, False)
        for day, n in notices.waiting(user)
    ]
    config = current_app.config
    replacement = aliased(DocumentVersion)
    rows = db.session.execute(
        select(DocumentVersion.valid_until, DocumentType, Document.organisation_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .where(
            Document.organisation_id.in_(list(companies)),
            DocumentVersion.status.in_(("valid", "expiring", "expired")),
            DocumentVersion.valid_until.is_not(None),
            # A replacement under review: the sweep does not remind it (documents.expiry).
            ~exists().where(replacement.document_id == Document.id, replacement.status == "submitted"),
        )
    ).all()
    for valid_until, kind, organisation_id in rows:
        code = "legal_expiry" if kind.legal_basis is not None else "other_expiry"
        reminder = next_reminder_day(
            valid_until, today, config["EXPIRY_REMINDER_DAYS"], config["EXPIRED_REMINDER_EVERY_DAYS"]
        )
        cadence = chosen[code]
        if reminder is None or cadence == "never" or reminder > horizon:
            continue
        sweep = datetime.combine(reminder, datetime.min.time(), tzinfo=clock.PARIS) + timedelta(hours=6)
        day = reminder if cadence == "immediate" else notices.next_send_day(cadence, sweep)
        with_label = (
            _l("« %(label)s » expire le %(date)s", label=Localised(kind), date=f"{valid_until:%d/%m/%Y}")
            if reminder <= valid_until
            else _l("« %(label)s » a expiré le %(date)s", label=Localised(kind), date=f"{valid_until:%d/%m/%Y}")
        )
        planned.append(Planned(day, companies[organisation_id], str(with_label), code, cadence, True))
    return sorted(planned, key=lambda p: (p.day, p.company, p.line))
