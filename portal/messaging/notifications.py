"""Emails and SMS: rendered now, stored as Message rows, delivered by a job after commit."""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.core import audit, outbox
from portal.core.extensions import db
from portal.integrations import DeliveryError, Outgoing
from portal.integrations.mail import OutboxMailer, SMTPMailer
from portal.integrations.sms import WEBHOOK_STATUSES, BrevoSMS, OutboxSMS
from portal.models import Message, utcnow

log = logging.getLogger(__name__)


def queue_email(
    to: str,
    template: str,
    *,
    language: str = "fr",
    organisation_id: int | None = None,
    deliver_later: bool = True,
    **context,
) -> Message:
    with force_locale(language):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", subject=subject, **context)
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


INTERRUPTED = "Envoi interrompu (service arrêté pendant l'envoi) : il a pu partir ; vérifiez avant de relancer."


def deliver(message_id: int, backend=None) -> None:
    """Send one message, at most once.

    The message is claimed (queued → sending) and committed before the provider is called. If a
    worker dies after that, the job runs again and finds it "sending": it is not sent a second
    time but marked failed with that reason, visible and retryable by a person."""
    claimed = db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == "queued").values(status="sending")
    ).rowcount
    db.session.commit()
    message = db.session.get(Message, message_id, populate_existing=True)
    if message is None:
        return
    if not claimed:
        if message.status == "sending":
            _interrupted([message])
        return
    _send(message, backend or (mailer() if message.channel == "email" else sms_gateway()))


def deliver_many(message_ids: list[int], backend, *, batch: int = 25) -> list[int]:
    """A campaign chunk's messages: claimed by batches, sent one by one with the same guarantees
    as ``deliver``. Returns the ids that failed for now and need a retry job."""
    retry_later = []
    for start in range(0, len(message_ids), batch):
        ids = message_ids[start : start + batch]
        claimed = set(
            db.session.scalars(
                update(Message)
                .where(Message.id.in_(ids), Message.status == "queued")
                .values(status="sending")
                .returning(Message.id)
            )
        )
        db.session.commit()
        messages = db.session.scalars(
            select(Message).where(Message.id.in_(ids)).order_by(Message.id).execution_options(populate_existing=True)
        ).all()
        _interrupted([m for m in messages if m.id not in claimed and m.status == "sending"])
        for message in messages:
            if message.id in claimed:
                try:
                    _send(message, backend, commit=False)
                except DeliveryError:
                    retry_later.append(message.id)
        # The batch's outcomes in one commit: after a crash before it, its messages stay "sending"
        # and are shown interrupted, never sent again.
        db.session.commit()
    return retry_later


def _interrupted(messages: list[Message]) -> None:
    for message in messages:
        message.status, message.failure_reason = "failed", INTERRUPTED
        log.warning("message %s: delivery interrupted earlier, marked failed", message.id)
    if messages:
        db.session.commit()


def _send(message: Message, backend, *, commit: bool = True) -> None:
    """A claimed message to the provider, then its outcome (raises DeliveryError to retry later)."""
    outgoing = Outgoing(
        id=message.id,
        recipient=message.recipient,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        tag=message.template,
    )
    message.attempts += 1
    try:
        receipt = backend.send(outgoing)
    except DeliveryError as exc:
        message.failure_reason = exc.reason
        final = exc.permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
        message.status = "failed" if final else "queued"
        db.session.commit()
        if not final:
            raise
        log.warning("message %s failed for good: %s", message.id, exc.reason)
        return
    message.status = "sent"
    message.provider_id = receipt.provider_id
    message.segments = receipt.segments
    message.sent_at = utcnow()
    message.failure_reason = None
    if commit:
        db.session.commit()


def retry(message_id: int, *, actor_id: int, not_before=None) -> Message:
    """Send a failed message again (an operator's action); ``not_before``: naive UTC, for SMS hours."""
    message = db.session.get(Message, message_id)
    if message is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    if message.status != "failed":
        raise ValueError("only a failed message can be sent again")
    message.status = "queued"
    message.attempts = 0
    job = outbox.enqueue("deliver_message", queue=message.channel, message_id=message.id)
    if not_before is not None:
        job.run_after = not_before
    audit.record("message.retried", user_id=actor_id, organisation_id=message.organisation_id, message_id=message.id)
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
