"""Paramètres → Webhooks: an owner's endpoints, their delivery log, "Renvoyer", on and off."""

from __future__ import annotations

import ipaddress
import secrets as random_secrets
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.core import audit, outbox, secrets
from portal.core import tenancy as tenancy_rules
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import WEBHOOK_EVENTS, User, WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT_LABELS = {
    "supplier.status_changed": _l("La conformité d'un fournisseur change"),
    "document.validated": _l("Un document est validé"),
    "document.refused": _l("Un document est refusé"),
    "document.expiring": _l("Un document expire dans 30 jours, puis dans 7 jours"),
    "document.expired": _l("Un document a expiré"),
    "partnership.accepted": _l("Une mise en relation est acceptée"),
    "partnership.ended": _l("Une relation prend fin"),
}
LOG_SIZE = 50
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: str) -> str:
    """HTTPS (any loopback address outside production); never credentials in the address."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts, host = None, ""
    production = current_app.config["VIGIE_ENV"] == "production"
    if not parts or not host or parts.username or parts.password or len(url) > 500:
        raise InvalidInput({"url": _l("Indiquez une adresse complète, par exemple https://erp.example.fr/vigie.")})
    if parts.scheme == "https" or (parts.scheme == "http" and not production and _is_loopback(host)):
        return url
    raise InvalidInput(
        {
            "url": _l(
                "L'adresse doit commencer par https:// (http:// n'est permis que vers cette machine, en développement)."
            )
        }
    )


def listed(tenancy: Tenancy) -> list[WebhookEndpoint]:
    tenancy.require_role("owner")
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.organisation_id == tenancy.organisation.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def create(tenancy: Tenancy, user: User, *, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (shown once)."""
    tenancy.require_role("owner")
    errors = {}
    try:
        url = checked_url(url)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if not events or any(event not in WEBHOOK_EVENTS for event in events):
        errors["events"] = _l("Choisissez au moins un événement.")
    if errors:
        raise InvalidInput(errors)
    secret = "whsec_" + random_secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        organisation_id=tenancy.organisation.id,
        created_by_id=user.id,
        url=url,
        secret_sealed=secrets.seal({"secret": secret}),
        events=[event for event in WEBHOOK_EVENTS if event in events],
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.created", user_id=user.id, organisation_id=endpoint.organisation_id, endpoint_id=endpoint.id)
    db.session.commit()
    return endpoint, secret


def endpoint_of(tenancy: Tenancy, endpoint_id: int) -> WebhookEndpoint:
    tenancy.require_role("owner")
    return tenancy_rules.owned(WebhookEndpoint, endpoint_id, tenancy.organisation.id)


def log(
    tenancy: Tenancy, endpoint_id: int
) -> tuple[WebhookEndpoint, list[tuple[WebhookDelivery, WebhookAttempt | None]]]:
    """The endpoint's last deliveries, each with its last attempt (two queries)."""
    endpoint = endpoint_of(tenancy, endpoint_id)
    deliveries = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(LOG_SIZE)
    ).all()
    last = {}
    if deliveries:
        for attempt in db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in deliveries]))
            .order_by(WebhookAttempt.id)
        ):
            last[attempt.delivery_id] = attempt
    return endpoint, [(delivery, last.get(delivery.id)) for delivery in deliveries]


def delivery_of(tenancy: Tenancy, delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint]:
    """A delivery to one of the company's endpoints, with it, or 404."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound()
    return delivery, endpoint_of(tenancy, delivery.endpoint_id)


def resend(tenancy: Tenancy, user: User, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now (same event id, same body), once."""
    delivery, endpoint = delivery_of(tenancy, delivery_id)
    if not endpoint.active:
        raise InvalidInput({"delivery": _l("Réactivez d'abord cette adresse.")})
    if delivery.status != "pending":
        delivery.status = "pending"
        outbox.enqueue("deliver_webhook", delivery_id=delivery.id, once=1)
        audit.record(
            "webhook.resent", user_id=user.id, organisation_id=endpoint.organisation_id, delivery_id=delivery.id
        )
    db.session.commit()
    return delivery


def switch(tenancy: Tenancy, user: User, endpoint_id: int, on: bool) -> WebhookEndpoint:
    endpoint = endpoint_of(tenancy, endpoint_id)
    endpoint.active = on
    endpoint.failing_since = None
    endpoint.disabled_at = None if on else endpoint.disabled_at
    endpoint.disabled_reason = None if on else "by_owner"
    audit.record(
        "webhook.enabled" if on else "webhook.disabled",
        user_id=user.id,
        organisation_id=endpoint.organisation_id,
        endpoint_id=endpoint.id,
    )
    db.session.commit()
    return endpoint
