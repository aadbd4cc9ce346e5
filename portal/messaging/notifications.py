"""Emails and SMS: rendered now, stored as Message rows, delivered by a job after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.core import audit, clock, outbox
from portal.core.extensions import db
from portal.integrations import DeliveryError, Outgoing
from portal.integrations.mail import OutboxMailer, SMTPMailer
from portal.integrations.sms import WEBHOOK_STATUSES, BrevoSMS, OutboxSMS
from portal.models import EmailBounce, Membership, Message, User, normalise_email, utcnow

log = logging.getLogger(__name__)


def render_email(template: str, language: str = "fr", **context) -> tuple[str, str, str]:
    """An email as its recipient reads it: subject, text and HTML (also the wizard's preview)."""
    with force_locale(language):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", subject=subject, **context)
    return subject, text, html


def queue_email(
    to: str,
    template: str,
    *,
    language: str = "fr",
    organisation_id: int | None = None,
    deliver_later: bool = True,
    **context,
) -> Message:
    subject, text, html = render_email(template, language, **context)
    message = Message(
        channel="email",
        recipient=to,
        subject=subject,
        body_text=text,
        body_html=html,
        template=template,
        organisation_id=organisation_id,
    )
    return _queue(message, "email", deliver_later)


def queue_sms(
    to: str, text: str, *, tag: str = "", organisation_id: int | None = None, deliver_later: bool = True
) -> Message:
    message = Message(channel="sms", recipient=to, body_text=text, template=tag, organisation_id=organisation_id)
    return _queue(message, "sms", deliver_later)


def _queue(message: Message, queue: str, deliver_later: bool = True) -> Message:
    """``deliver_later=False``: the caller delivers it itself (a campaign chunk sends its own)."""
    db.session.add(message)
    db.session.flush()
    if deliver_later:
        outbox.enqueue("deliver_message", queue=queue, message_id=message.id)
    return message


def mailer():
    config = current_app.config
    if config["MAIL_BACKEND"] == "smtp":
        return SMTPMailer(
            config["MAIL_SERVER"],
            config["MAIL_PORT"],
            config["MAIL_DEFAULT_SENDER"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
            use_ssl=config["MAIL_USE_SSL"],
            timeout=config["MAIL_TIMEOUT"],
        )
    return OutboxMailer()


def sms_gateway():
    config = current_app.config
    if config["SMS_BACKEND"] == "brevo":
        return BrevoSMS(
            config["SMS_API_URL"],
            config["SMS_API_KEY"] or "",
            config["SMS_SENDER"],
            timeout=config["SMS_TIMEOUT"],
            webhook_url=config["SMS_WEBHOOK_URL"],
        )
    return OutboxSMS()


UNKNOWN = (
    "Issue inconnue : l'envoi a été interrompu (service arrêté pendant l'envoi) et la passerelle n'a pas "
    "pu confirmer s'il est parti. Le renvoyer risque un doublon."
)
NOT_FOUND = (
    "Issue inconnue : l'envoi a été interrompu et la passerelle ne connaît pas ce message ; il n'est "
    "probablement pas parti. Le renvoyer risque un doublon s'il part avec retard."
)


def deliver(message_id: int, backend=None) -> None:
    """Send one message, at most once.

    The message is claimed (queued → sending) and committed before the provider is called, and
    its outcome is committed right after. If a worker dies in between, the job runs again and
    finds it "sending": it is not sent a second time; the provider is asked what became of it, and
    if it cannot tell, the message is "issue inconnue", kept apart from the failures to retry."""
    claimed = _claim(message_id)
    db.session.commit()
    if claimed is None:
        _after_lost_claim(message_id, backend)
        return
    _send(claimed, backend or _backend_for(claimed.channel))
    db.session.commit()


def deliver_many(message_ids: list[int], backend) -> list[int]:
    """A campaign chunk's messages, one by one with the same guarantees as ``deliver``: each is
    claimed in a commit before the provider is called, and that same commit records the previous
    message's outcome, so a crash leaves at most one message whose outcome is unknown. Two round
    trips per message: the claim (which reads the message back) with the previous outcome, and
    the commit. Returns the ids to retry later."""
    retry_later = []
    for message_id in message_ids:
        claimed = _claim(message_id)
        db.session.commit()  # this claim, and the previous message's outcome
        if claimed is None:
            _after_lost_claim(message_id, backend)
            continue
        try:
            _send(claimed, backend)
        except DeliveryError:
            retry_later.append(message_id)
    db.session.commit()
    return retry_later


def _backend_for(channel: str):
    return mailer() if channel == "email" else sms_gateway()


# What a claim reads back: all the provider call and its outcome need.
CLAIMED = (
    Message.id,
    Message.channel,
    Message.recipient,
    Message.subject,
    Message.body_text,
    Message.body_html,
    Message.template,
)


def _claim(message_id: int):
    """queued → sending, one attempt more, the message read back by the same statement (None: it
    was not queued). The caller commits before calling the provider."""
    return db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "queued")
        .values(status="sending", attempts=Message.attempts + 1)  # an attempt, whatever becomes of it
        .returning(*CLAIMED)
        .execution_options(synchronize_session=False)  # the commit that follows expires the session
    ).first()


def _after_lost_claim(message_id: int, backend) -> None:
    """Not queued: already sent, failed or cancelled, or left "sending" by a dead worker."""
    message = db.session.get(Message, message_id, populate_existing=True)
    if message is not None and message.status == "sending":
        _resolve_interrupted(message, backend or _backend_for(message.channel))


def _resolve_interrupted(message: Message, backend) -> None:
    """A message left "sending" by a dead worker: ask the provider, never send it blindly."""
    lookup = getattr(backend, "lookup", None)
    reason = UNKNOWN
    if lookup is not None:
        try:
            receipt = lookup(_outgoing(message))
        except DeliveryError as exc:
            if exc.permanent:  # the provider knows it and says it failed
                message.status, message.failure_reason = "failed", exc.reason
                db.session.commit()
                return
        else:
            if receipt is not None:
                _record_sent(message, receipt)
                db.session.commit()
                log.info("message %s: interrupted, the provider confirms it was sent", message.id)
                return
            reason = NOT_FOUND
    message.status, message.failure_reason = "unknown", reason
    db.session.commit()
    log.warning("message %s: delivery interrupted, outcome unknown", message.id)


def _outgoing(message) -> Outgoing:
    """A message (or a claimed row) as the providers take it."""
    return Outgoing(
        id=message.id,
        recipient=message.recipient,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        tag=message.template,
    )


def _sent(receipt) -> dict:
    return {
        "status": "sent",
        "provider_id": receipt.provider_id,
        "segments": receipt.segments,
        "sent_at": utcnow(),
        "failure_reason": None,
    }


def _record_sent(message: Message, receipt) -> None:
    for name, value in _sent(receipt).items():
        setattr(message, name, value)
    _report_later(message.channel, receipt)


def _report_later(channel: str, receipt) -> None:
    if channel == "sms" and receipt.provider_id.startswith(OutboxSMS.PREFIX):
        # The development outbox answers as the gateway would: a delivery report, a moment later.
        report = outbox.enqueue("dev_sms_report", provider_id=receipt.provider_id)
        report.run_after = utcnow() + timedelta(seconds=current_app.config["DEV_SMS_REPORT_SECONDS"])


def dev_sms_report(provider_id: str) -> None:
    """The job: the development outbox's delivery report ("Remis" moves in the demo)."""
    record_sms_report(provider_id, "delivered")


def _send(claimed, backend) -> None:
    """A claimed message to the provider, then its outcome: a success written for the caller's
    next commit (one statement), a failure committed here (DeliveryError raised to retry later)."""
    try:
        receipt = backend.send(_outgoing(claimed))
    except DeliveryError as exc:
        _failed(claimed.id, exc)
        return
    db.session.execute(
        update(Message)
        .where(Message.id == claimed.id)
        .values(**_sent(receipt))
        .execution_options(synchronize_session=False)
    )
    _report_later(claimed.channel, receipt)


def _failed(message_id: int, exc: DeliveryError) -> None:
    message = db.session.get(Message, message_id, populate_existing=True)
    message.failure_reason = exc.reason
    final = exc.permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    message.status = "failed" if final else "queued"
    if exc.bounced and message.channel == "email":  # the server refused the address
        db.session.add(
            EmailBounce(email=message.recipient, source="smtp", reason=exc.reason[:300], message_id=message.id)
        )
    db.session.commit()
    if not final:
        raise exc
    log.warning("message %s failed for good: %s", message.id, exc.reason)


def retry(message_id: int, *, actor_id: int, not_before=None, risk_duplicate: bool = False) -> Message:
    """Send a failed message again (an operator's action); ``not_before``: naive UTC, for SMS hours.
    A message whose outcome is unknown is sent again only with ``risk_duplicate`` (ticked by a
    person who was told it may already have arrived)."""
    message = db.session.get(Message, message_id)
    if message is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    if message.status != "failed" and not (message.status == "unknown" and risk_duplicate):
        raise ValueError("only a failed message can be sent again")
    was_unknown = message.status == "unknown"
    message.status = "queued"
    message.attempts = 0
    job = outbox.enqueue("deliver_message", queue=message.channel, message_id=message.id)
    if not_before is not None:
        job.run_after = not_before
    audit.record(
        "message.retried",
        user_id=actor_id,
        organisation_id=message.organisation_id,
        message_id=message.id,
        outcome_was_unknown=was_unknown,
    )
    db.session.commit()
    return message


def record_sms_report(provider_id: str, status: str) -> bool:
    """Apply a delivery report from the SMS gateway; returns whether a message was updated."""
    if status not in WEBHOOK_STATUSES:
        return False
    message = db.session.scalar(select(Message).where(Message.channel == "sms", Message.provider_id == provider_id))
    if message is None:
        return False
    new_status, reason = WEBHOOK_STATUSES[status]
    if message.status == new_status:
        return False
    message.status = new_status
    if new_status == "delivered":
        message.delivered_at = utcnow()
        message.failure_reason = None
    else:
        message.failure_reason = reason
    db.session.commit()
    return True


BOUNCE_EVENTS = ("hard_bounce", "invalid_email", "blocked", "spam", "unsubscribed")


def record_bounce(email: str, source: str, reason: str = "") -> bool:
    """An address that cannot receive email (a Brevo event): its invitations stop following up."""
    email = normalise_email(email)
    if not email or "@" not in email or len(email) > 254:
        return False
    db.session.add(EmailBounce(email=email, source=source, reason=reason[:300], recorded_at=clock.stored_now()))
    db.session.commit()
    return True


def bounced_since(emails: set[str]) -> dict[str, datetime]:
    """The first bounce recorded for each of these addresses (one query)."""
    if not emails:
        return {}
    found: dict[str, datetime] = {}
    for email, at in db.session.execute(
        select(EmailBounce.email, EmailBounce.recorded_at).where(EmailBounce.email.in_(emails)).order_by(EmailBounce.id)
    ):
        found.setdefault(email, at)
    return found


def owners(organisation_ids: set[int]) -> dict[int, list[User]]:
    """The owners of several organisations (one query): who gets the company's emails."""
    if not organisation_ids:
        return {}
    found: dict[int, list[User]] = {}
    for membership, user in db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id.in_(organisation_ids), Membership.role == "owner")
    ):
        found.setdefault(membership.organisation_id, []).append(user)
    return found


def tell_owners(organisation_id: int, template: str, **context) -> None:
    """Queue an email to each owner of an organisation, in his language (after commit)."""
    for owner in owners({organisation_id}).get(organisation_id, []):
        queue_email(
            owner.email, template, language=owner.language, organisation_id=organisation_id, user=owner, **context
        )
