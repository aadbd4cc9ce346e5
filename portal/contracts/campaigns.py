"""A confirmed reminder campaign: recipients once, fan-out through the outbox, live progress, history.

Exactly once per recipient:
- confirming is a conditional UPDATE draft → confirmed in the transaction that writes one recipient
  row per employee (unique) and the chunk jobs: a double click or a second tab confirms nothing more;
- a chunk job creates a recipient's message and records it on the row in one transaction, and only
  for rows without one: run twice, killed half-way or re-pushed after a Redis outage, it never
  creates a second message; each message is then delivered once by ``deliver_message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import joinedload

from portal.contracts import manage, reminder_wizard
from portal.core import audit, clock, outbox
from portal.core.extensions import db
from portal.core.spreadsheets import csv_text
from portal.core.tenancy import Tenancy
from portal.messaging import notifications, sms_rules
from portal.models import Contract, Message, Organisation, ReminderCampaign, ReminderRecipient, User, utcnow

CHUNK = 200


def confirm(tenancy: Tenancy, user: User, campaign_id: int, now=None) -> ReminderCampaign:
    """ "Confirmer envoi relance". Safe to call twice: the second call changes nothing."""
    campaign = reminder_wizard.campaign_of(tenancy, campaign_id)
    if campaign.status != "draft":
        return campaign
    plan = reminder_wizard.preview(tenancy, campaign, now=now)
    claimed = db.session.execute(
        update(ReminderCampaign)
        .where(ReminderCampaign.id == campaign.id, ReminderCampaign.status == "draft")
        .values(status="confirmed", confirmed_at=utcnow())
    ).rowcount
    if not claimed:  # another request confirmed it in the meantime
        db.session.rollback()
        return db.session.get(ReminderCampaign, campaign_id, populate_existing=True)
    sms = campaign.channel == "sms"
    rows = [
        {
            "campaign_id": campaign.id,
            "employee_id": person.employee.id,
            "address": person.employee.mobile_phone if sms else person.employee.email,
            "contract_ids": [c.id for c in person.contracts],
            "body": body,
            "segments": encoding.segments if sms else 0,
        }
        for person, body, encoding in zip(plan.selection.recipients, plan.bodies, plan.encodings, strict=False)
    ]
    if rows:
        db.session.execute(insert(ReminderRecipient), rows)
    db.session.flush()
    scheduled = plan.sends_at.astimezone(UTC).replace(tzinfo=None) if plan.scheduled else None
    campaign = db.session.get(ReminderCampaign, campaign.id, populate_existing=True)
    campaign.scheduled_for = scheduled
    campaign.recipients_count = len(plan.selection.recipients)
    campaign.contracts_count = sum(len(p.contracts) for p in plan.selection.recipients)
    campaign.segments_total = plan.segments_total if campaign.channel == "sms" else 0
    ids = db.session.scalars(
        select(ReminderRecipient.id).where(ReminderRecipient.campaign_id == campaign.id).order_by(ReminderRecipient.id)
    ).all()
    for index in range(0, len(ids), CHUNK):
        chunk = ids[index : index + CHUNK]
        job = outbox.enqueue(
            "send_reminders", queue=campaign.channel, campaign_id=campaign.id, first_id=chunk[0], last_id=chunk[-1]
        )
        if scheduled:
            job.run_after = scheduled
    audit.record(
        "reminders.confirmed",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        campaign_id=campaign.id,
        channel=campaign.channel,
        recipients=campaign.recipients_count,
        segments=campaign.segments_total,
    )
    db.session.commit()
    return campaign


def send_chunk(campaign_id: int, first_id: int, last_id: int) -> int:
    """The job: one message per recipient of the chunk that has none yet, then deliver the chunk's
    messages still waiting, one by one (each claimed before the provider is called). Run again
    after a crash, it creates and sends only what is missing. Returns how many messages it created."""
    created = _create_messages(campaign_id, first_id, last_id)
    waiting = db.session.scalars(
        select(Message.id)
        .join(ReminderRecipient, ReminderRecipient.message_id == Message.id)
        .where(
            ReminderRecipient.campaign_id == campaign_id,
            ReminderRecipient.id.between(first_id, last_id),
            Message.status.in_(("queued", "sending")),
        )
        .order_by(Message.id)
    ).all()
    channel = db.session.scalar(select(ReminderCampaign.channel).where(ReminderCampaign.id == campaign_id))
    # One connection to the provider for the whole chunk.
    backend = notifications.sms_gateway() if channel == "sms" else notifications.mailer()
    for message_id in notifications.deliver_many(list(waiting), backend):
        # A transient failure: that message goes on with its own retries.
        outbox.enqueue("deliver_message", queue=channel, message_id=message_id)
    db.session.commit()
    return created


def _create_messages(campaign_id: int, first_id: int, last_id: int) -> int:
    campaign = db.session.get(ReminderCampaign, campaign_id)
    agency = db.session.get(Organisation, campaign.agency_id)
    pending = db.session.scalars(
        select(ReminderRecipient)
        .where(
            ReminderRecipient.campaign_id == campaign_id,
            ReminderRecipient.id.between(first_id, last_id),
            ReminderRecipient.message_id.is_(None),
        )
        .options(joinedload(ReminderRecipient.employee))
        .order_by(ReminderRecipient.id)
    ).all()
    references = {}
    if campaign.channel == "email":  # the email names each contract: one query for the chunk
        wanted = {cid for r in pending for cid in r.contract_ids}
        references = dict(
            db.session.execute(select(Contract.id, Contract.reference).where(Contract.id.in_(wanted))).all()
        )
    for recipient in pending:
        if campaign.channel == "sms":
            message = notifications.queue_sms(
                recipient.address,
                recipient.body,
                tag="contract_reminder",
                organisation_id=agency.id,
                deliver_later=False,
            )
        else:
            message = notifications.queue_email(
                recipient.address,
                "contract_reminder",
                organisation_id=agency.id,
                deliver_later=False,
                agency=agency,
                employee=recipient.employee,
                count=len(recipient.contract_ids),
                references=[references[cid] for cid in recipient.contract_ids if cid in references],
                link=recipient.body,
            )
        recipient.message_id = message.id
    db.session.commit()
    return len(pending)


@dataclass(frozen=True)
class Failure:
    name: str
    address: str
    reason: str
    unknown: bool = False  # "issue inconnue": it may have arrived


@dataclass(frozen=True)
class Progress:
    campaign: ReminderCampaign
    queued: int
    sent: int  # sent, delivered included
    delivered: int
    failed: int
    failures: list[Failure]
    unknown: int = 0

    @property
    def done(self) -> bool:
        return self.campaign.status != "draft" and self.queued == 0

    @property
    def polling(self) -> bool:
        """The widget refreshes itself until every message went, then while SMS delivery reports
        may still come (the first ten minutes after the confirmation)."""
        if not self.done:
            return True
        recent = self.campaign.confirmed_at and utcnow() - self.campaign.confirmed_at < REPORTS_WINDOW
        return bool(self.campaign.channel == "sms" and self.sent > self.delivered and recent)


REPORTS_WINDOW = timedelta(minutes=10)


def progress(tenancy: Tenancy, campaign_id: int) -> Progress:
    """Where the campaign stands, from the messages' own states (two queries)."""
    campaign = reminder_wizard.campaign_of(tenancy, campaign_id, reading=True)
    counts: dict[str, int] = {}
    for status, count in db.session.execute(
        select(Message.status, func.count())
        .select_from(ReminderRecipient)
        .outerjoin(Message, Message.id == ReminderRecipient.message_id)
        .where(ReminderRecipient.campaign_id == campaign.id)
        .group_by(Message.status)
    ):
        key = "queued" if status in (None, "sending") else status  # None: the chunk has not run yet
        counts[key] = counts.get(key, 0) + count
    failed_rows = db.session.execute(
        select(ReminderRecipient, Message.failure_reason)
        .join(Message, Message.id == ReminderRecipient.message_id)
        .where(ReminderRecipient.campaign_id == campaign.id, Message.status.in_(("failed", "unknown")))
        .add_columns(Message.status)
        .options(joinedload(ReminderRecipient.employee))
        .order_by(ReminderRecipient.id)
        .limit(200)
    ).all()
    failures = [
        Failure(r.employee.full_name, r.address, reason or "", unknown=status == "unknown")
        for r, reason, status in failed_rows
    ]
    return Progress(
        campaign,
        counts.get("queued", 0),
        counts.get("sent", 0) + counts.get("delivered", 0),
        counts.get("delivered", 0),
        counts.get("failed", 0),
        failures,
        counts.get("unknown", 0),
    )


def retry_failures(tenancy: Tenancy, user: User, campaign_id: int, *, include_unknown: bool = False) -> int:
    """ "Relancer les échecs": only the recipients whose message failed, each once more. Messages
    whose outcome is unknown (they may have arrived) only when the agency ticked them explicitly."""
    campaign = reminder_wizard.campaign_of(tenancy, campaign_id)
    statuses = ("failed", "unknown") if include_unknown else ("failed",)
    failed = db.session.scalars(
        select(Message.id)
        .join(ReminderRecipient, ReminderRecipient.message_id == Message.id)
        .where(ReminderRecipient.campaign_id == campaign.id, Message.status.in_(statuses))
    ).all()
    not_before = None
    if campaign.channel == "sms":  # a retry keeps to the SMS hours too
        moment = clock.now()
        opening = sms_rules.next_opening(moment)
        if opening > moment.astimezone(clock.PARIS):
            not_before = opening.astimezone(UTC).replace(tzinfo=None)
    for message_id in failed:
        notifications.retry(message_id, actor_id=user.id, not_before=not_before, risk_duplicate=include_unknown)
    return len(failed)


@dataclass(frozen=True)
class HistoryRow:
    campaign: ReminderCampaign
    author: str
    sent: int
    failed: int
    unknown: int = 0

    @property
    def cost(self):
        return sms_rules.cost(self.campaign.segments_total)


def history(tenancy: Tenancy, *, limit: int | None = None) -> list[HistoryRow]:
    """ "Historique des relances": confirmed campaigns, newest first, with their outcome (one query).
    Readable with the option off: the agency keeps its own history."""
    manage.require_agency(tenancy)
    sent = func.sum(case((Message.status.in_(("sent", "delivered")), 1), else_=0))
    failed = func.sum(case((Message.status == "failed", 1), else_=0))
    unknown = func.sum(case((Message.status == "unknown", 1), else_=0))
    rows = db.session.execute(
        select(ReminderCampaign, User, sent, failed, unknown)
        .outerjoin(User, User.id == ReminderCampaign.created_by_id)
        .outerjoin(ReminderRecipient, ReminderRecipient.campaign_id == ReminderCampaign.id)
        .outerjoin(Message, Message.id == ReminderRecipient.message_id)
        .where(ReminderCampaign.agency_id == tenancy.organisation.id, ReminderCampaign.status != "draft")
        .group_by(ReminderCampaign.id, User.id)
        .order_by(ReminderCampaign.confirmed_at.desc(), ReminderCampaign.id.desc())
        .limit(limit)
    ).all()
    return [HistoryRow(c, u.full_name if u else "—", s or 0, f or 0, n or 0) for c, u, s, f, n in rows]


def history_csv(tenancy: Tenancy) -> str:
    return csv_text(
        ["Date", "Par", "Canal", "Destinataires", "Envoyés", "Échecs", "Issue inconnue", "Segments", "Coût (€)"],
        (
            [
                clock.paris_time(row.campaign.confirmed_at).strftime("%d/%m/%Y %H:%M"),  # as on screen
                row.author,
                "SMS" if row.campaign.channel == "sms" else "E-mail",
                row.campaign.recipients_count,
                row.sent,
                row.failed,
                row.unknown,
                row.campaign.segments_total,
                str(row.cost).replace(".", ",") if row.campaign.channel == "sms" else "",
            ]
            for row in history(tenancy)
        ),
        bom=True,
    )
