"""SMS backends: Brevo's transactional SMS API, and the dev outbox.

Built against Brevo's public documentation: "Send transactional SMS"
(POST {base}/transactionalSMS/send, header ``api-key``; 201 answers ``reference``,
``messageId``, ``smsCount``, ``usedCredits``, ``remainingCredits``; errors answer
``{"code", "message"}``) and "Transactional webhooks" (SMS events carry ``messageId``,
``msg_status`` in sent / delivered / soft_bounce / hard_bounce, ``to``, ``sms_count``).

Every SMS carries two tags (Brevo takes an array since 2024): its kind, and ``vigie-m<id>``,
unique to the message. "Get all your SMS activity" (GET {base}/transactionalSMS/statistics/events,
filtered by ``phoneNumber`` and ``tags``, a serialized array) then tells what became of a message
whose worker died between the call and the recording of its answer.
"""

from __future__ import annotations

import json
import re

import requests

from portal.integrations import DeliveryError, Outgoing, Receipt
from portal.integrations.sms_encoding import encoding_of, is_gsm7

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9]{1,11}$")


SENT_EVENTS = {"sent", "accepted", "delivered", "replied"}
FAILED_EVENTS = {"hardBounce": "Numéro invalide ou injoignable (hard bounce)", "rejected": "Refusé par l'opérateur"}


def reference_tag(message: Outgoing) -> str:
    return f"vigie-m{message.id}"


class OutboxSMS:
    PREFIX = "dev-sms-"

    def send(self, message: Outgoing) -> Receipt:
        return Receipt(provider_id=f"{self.PREFIX}{message.id}", segments=encoding_of(message.body_text).segments)


class BrevoSMS:
    PERMANENT = {400: "Requête refusée", 401: "Clé API refusée", 402: "Crédits SMS insuffisants", 403: "Accès refusé"}

    def __init__(
        self,
        api_url: str,
        api_key: str,
        sender: str,
        timeout: float = 10,
        webhook_url: str | None = None,
        session: requests.Session | None = None,
    ):
        if not SENDER_PATTERN.match(sender):
            raise ValueError("SMS_SENDER must be 1 to 11 letters or digits.")
        self.url = api_url.rstrip("/") + "/transactionalSMS/send"
        self.events_url = api_url.rstrip("/") + "/transactionalSMS/statistics/events"
        self.api_key, self.sender, self.timeout = api_key, sender, timeout
        self.webhook_url = webhook_url
        self.http = session or requests.Session()

    def send(self, message: Outgoing) -> Receipt:
        payload = {
            "sender": self.sender,
            "recipient": message.recipient.lstrip("+"),
            "content": message.body_text,
            "type": "transactional",
            "tag": [message.tag or "vigie", reference_tag(message)],
            "unicodeEnabled": not is_gsm7(message.body_text),
        }
        if self.webhook_url:
            payload["webUrl"] = self.webhook_url
        try:
            response = self.http.post(self.url, json=payload, headers=self._headers(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"Passerelle SMS injoignable : {exc.__class__.__name__}") from exc
        if response.status_code in (200, 201):
            try:
                body = response.json()
                return Receipt(provider_id=str(body["messageId"]), segments=body.get("smsCount"))
            except (ValueError, KeyError) as exc:
                raise DeliveryError("Réponse illisible de la passerelle SMS") from exc
        reason = self._reason(response)
        if response.status_code in self.PERMANENT:
            raise DeliveryError(f"{self.PERMANENT[response.status_code]} : {reason}", permanent=True)
        raise DeliveryError(f"Passerelle SMS indisponible ({response.status_code}) : {reason}")

    def lookup(self, message: Outgoing) -> Receipt | None:
        """What Brevo knows of a message sent earlier: a Receipt if it went, None if Brevo has no
        trace of it; DeliveryError(permanent) if Brevo refused it, DeliveryError if it cannot say."""
        params = {
            "phoneNumber": message.recipient.lstrip("+"),
            "tags": json.dumps([reference_tag(message)]),
            "days": 7,
            "limit": 100,
        }
        try:
            response = self.http.get(self.events_url, params=params, headers=self._headers(), timeout=self.timeout)
            response.raise_for_status()
            events = response.json().get("events") or []
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise DeliveryError(f"Passerelle SMS muette sur ce message : {exc.__class__.__name__}") from exc
        mine = [e for e in events if isinstance(e, dict) and reference_tag(message) in _tags(e)]
        for event in mine:
            if event.get("event") in SENT_EVENTS and event.get("messageId"):
                return Receipt(provider_id=str(event["messageId"]))
        for event in mine:
            if event.get("event") in FAILED_EVENTS:
                raise DeliveryError(FAILED_EVENTS[event["event"]], permanent=True)
        return None

    def _headers(self) -> dict:
        return {"api-key": self.api_key, "accept": "application/json", "content-type": "application/json"}

    @staticmethod
    def _reason(response: requests.Response) -> str:
        try:
            body = response.json()
            return f"{body.get('code', '')} {body.get('message', '')}".strip()
        except ValueError:
            return response.text[:200]


def _tags(event: dict) -> list[str]:
    tag = event.get("tag")
    return tag if isinstance(tag, list) else str(tag or "").split(",")


WEBHOOK_STATUSES = {
    "delivered": ("delivered", None),
    "hard_bounce": ("failed", "Numéro invalide ou injoignable (hard bounce)"),
    "soft_bounce": ("failed", "Téléphone injoignable (soft bounce)"),
    "rejected": ("failed", "Refusé par l'opérateur"),
    "blacklisted": ("failed", "Destinataire sur liste noire"),
}
