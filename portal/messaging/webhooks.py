"""Outgoing webhooks: a change tells the endpoints that asked for it, signed, retried, logged.

``emit()`` writes one delivery per subscribed endpoint in the caller's transaction, and its job in
the outbox: nothing is sent for a change that is rolled back, nothing promised is lost. The job
``deliver_webhook`` POSTs the body with ``Vigie-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"t.body">`` (the scheme Stripe documents); a failure is tried again with a growing delay for
``WEBHOOK_RETRY_HOURS``, with the same event id and body, so receivers can drop duplicates. An
endpoint that has failed for ``WEBHOOK_DISABLE_AFTER_DAYS`` is switched off and its owners emailed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import requests
from flask import current_app, url_for
from sqlalchemy import or_, select, update

from portal.core import clock, outbox, secrets
from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import (
    Organisation,
    Partnership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

# Seconds before the next try, by the number of tries made (then the last one, until the window ends).
BACKOFF = (60, 300, 1800, 7200, 21600, 43200)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def company(organisation: Organisation) -> dict:
    return {"siren": organisation.siren, "legal_name": organisation.legal_name}


def _subscribed(event_type: str, *where) -> list[WebhookEndpoint]:
    endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True), *where))
    return [endpoint for endpoint in endpoints if event_type in endpoint.events]


def emit_document_event(event_type: str, supplier: Organisation, own: dict, for_clients: dict) -> int:
    """A document.* event: ``own`` to the supplier's endpoints, ``for_clients`` to those of the clients
    reading its file through an accepted request (one query for both)."""
    clients = select(Partnership.requester_id).where(
        Partnership.target_id == supplier.id, Partnership.status == "accepted"
    )
    endpoints = _subscribed(
        event_type,
        or_(WebhookEndpoint.organisation_id == supplier.id, WebhookEndpoint.organisation_id.in_(clients)),
    )
    document = {supplier.id: own}
    return _write(
        event_type,
        endpoints,
        lambda organisation_id: {"supplier": company(supplier), "document": document.get(organisation_id, for_clients)},
    )


def emit(event_type: str, data_by_organisation: dict[int, dict]) -> int:
    """One event (one id) for the active endpoints of these companies that subscribed to it, each with
    its company's data; in the caller's transaction. Returns the deliveries written."""
    if not data_by_organisation:
        return 0
    endpoints = _subscribed(event_type, WebhookEndpoint.organisation_id.in_(list(data_by_organisation)))
    return _write(event_type, endpoints, data_by_organisation.__getitem__)


def _write(event_type: str, endpoints: list[WebhookEndpoint], data_for) -> int:
    """The deliveries of one event and their jobs (one flush)."""
    if not endpoints:
        return 0
    event_id = str(uuid.uuid4())
    now = clock.stored_now()
    created = now.isoformat(timespec="seconds") + "Z"
    deliveries = [
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            body=json.dumps(
                {"id": event_id, "type": event_type, "created_at": created, "data": data_for(endpoint.organisation_id)},
                ensure_ascii=False,
                separators=(",", ":"),
                default=str,
            ),
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    for delivery in deliveries:
        outbox.enqueue("deliver_webhook", delivery_id=delivery.id)
    return len(deliveries)


def deliver(delivery_id: int, *, once: bool = False) -> str:
    """One try of a delivery; the outcome recorded, the next try scheduled. ``once``: a "Renvoyer"
    from the page, not retried when it fails. Returns the delivery's status."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return delivery.status if delivery else "missing"
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if not endpoint.active:
        delivery.status, delivery.last_error = "failed", "endpoint switched off"
        db.session.commit()
        return delivery.status
    config = current_app.config
    body = delivery.body.encode()
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigie-Webhooks/1",
        "Vigie-Event-Id": delivery.event_id,
        "Vigie-Event-Type": delivery.event_type,
        "Vigie-Signature": signature(secrets.open_sealed(endpoint.secret_sealed)["secret"], timestamp, body),
    }
    started = time.perf_counter()
    status_code, answer, error = None, "", None
    try:
        response = requests.post(
            endpoint.url, data=body, headers=headers, timeout=config["WEBHOOK_TIMEOUT"], allow_redirects=False
        )
        status_code, answer = response.status_code, response.text[:1000]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration = int((time.perf_counter() - started) * 1000)
    now = clock.stored_now()
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id, at=now, status_code=status_code, answer=answer, error=error, duration_ms=duration
        )
    )
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        endpoint.failing_since = None
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if now - endpoint.failing_since >= timedelta(days=config["WEBHOOK_DISABLE_AFTER_DAYS"]):
            _switch_off(endpoint, now)
            delivery.status, delivery.next_attempt_at = "failed", None
        elif once or now - delivery.created_at >= timedelta(hours=config["WEBHOOK_RETRY_HOURS"]):
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            wait = BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1] * config["WEBHOOK_BACKOFF_SCALE"]
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            outbox.enqueue("deliver_webhook", delivery_id=delivery.id).run_after = delivery.next_attempt_at
    db.session.commit()
    return delivery.status


def _switch_off(endpoint: WebhookEndpoint, now) -> None:
    """Off after days of failures: pending deliveries fail, the company's owners are told."""
    endpoint.active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = "failing"
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="failed", next_attempt_at=None, last_error="endpoint switched off")
    )
    notifications.tell_owners(
        endpoint.organisation_id,
        "webhook_disabled",
        endpoint=endpoint,
        days=current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"],
        link=url_for("api_keys.webhooks", _external=True),
    )
