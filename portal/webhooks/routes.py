"""Callbacks from providers. Authenticated by a shared token, exempt from CSRF."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request

from portal.contracts import signature_sync
from portal.core.extensions import csrf
from portal.integrations.esign import webhook_is_authentic
from portal.messaging import notifications

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _authorised(key: str = "SMS_WEBHOOK_TOKEN") -> bool:
    expected = current_app.config[key]
    if not expected:
        return False
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@bp.post("/brevo/sms")
@csrf.exempt
def brevo_sms_report():
    if not current_app.config["SMS_WEBHOOK_TOKEN"]:
        abort(404)
    if not _authorised():
        return {"error": "unauthorised"}, 401
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "messageId" not in payload or "msg_status" not in payload:
        return {"error": "messageId and msg_status are required"}, 400
    updated = notifications.record_sms_report(str(payload["messageId"]), str(payload["msg_status"]))
    return {"updated": updated}, 200


@bp.post("/brevo/email")
@csrf.exempt
def brevo_email_event():
    """Brevo's transactional email events: a hard bounce (or a blocked, invalid address) is
    recorded, and the invitations to that address stop following up."""
    if not current_app.config["MAIL_WEBHOOK_TOKEN"]:
        abort(404)
    if not _authorised("MAIL_WEBHOOK_TOKEN"):
        return {"error": "unauthorised"}, 401
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("email"), str) or "event" not in payload:
        return {"error": "email and event are required"}, 400
    if payload["event"] not in notifications.BOUNCE_EVENTS:
        return {"recorded": False}, 200
    recorded = notifications.record_bounce(payload["email"], "brevo", str(payload.get("reason") or payload["event"]))
    return {"recorded": recorded}, 200


@bp.post("/yousign")
@csrf.exempt
def yousign_event():
    """Yousign webhooks, authenticated by X-Yousign-Signature-256 over the raw body."""
    secret = current_app.config["YOUSIGN_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    body = request.get_data(cache=True)
    if not webhook_is_authentic(secret, body, request.headers.get("X-Yousign-Signature-256")):
        return {"error": "invalid signature"}, 401
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return {"error": "a JSON object is required"}, 400
    return {"updated": signature_sync.on_webhook(payload)}, 200
