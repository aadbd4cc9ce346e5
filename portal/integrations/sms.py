"""SMS backends: Brevo's transactional SMS API, and the dev outbox.

Built against Brevo's public documentation: "Send transactional SMS"
(POST {base}/transactionalSMS/send, header ``api-key``; 201 answers ``reference``,
``messageId``, ``smsCount``, ``usedCredits``, ``remainingCredits``; errors answer
``{"code", "message"}``) and "Transactional webhooks" (SMS events carry ``messageId``,
``msg_status`` in sent / delivered / soft_bounce / hard_bounce, ``to``, ``sms_count``).
"""

from __future__ import annotations

import re

import requests

from portal.integrations import DeliveryError, Outgoing, Receipt
from portal.integrations.sms_encoding import encoding_of, is_gsm7

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9]{1,11}$")


class OutboxSMS:
    def send(self, message: Outgoing) -> Receipt:
        return Receipt(provider_id=f"dev-sms-{message.id}", segments=encoding_of(message.body_text).segments)


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
        self.api_key, self.sender, self.timeout = api_key, sender, timeout
        self.webhook_url = webhook_url
        self.http = session or requests.Session()

    def send(self, message: Outgoing) -> Receipt:
        payload = {
            "sender": self.sender,
            "recipient": message.recipient.lstrip("+"),
            "content": message.body_text,
            "type": "transactional",
            "tag": message.tag or "vigie",
            "unicodeEnabled": not is_gsm7(message.body_text),
        }
        if self.webhook_url:
            payload["webUrl"] = self.webhook_url
        headers = {"api-key": self.api_key, "accept": "application/json", "content-type": "application/json"}
        try:
            response = self.http.post(self.url, json=payload, headers=headers, timeout=self.timeout)
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

    @staticmethod
    def _reason(response: requests.Response) -> str:
        try:
            body = response.json()
            return f"{body.get('code', '')} {body.get('message', '')}".strip()
        except ValueError:
            return response.text[:200]


WEBHOOK_STATUSES = {
    "delivered": ("delivered", None),
    "hard_bounce": ("failed", "Numéro invalide ou injoignable (hard bounce)"),
    "soft_bounce": ("failed", "Téléphone injoignable (soft bounce)"),
    "rejected": ("failed", "Refusé par l'opérateur"),
    "blacklisted": ("failed", "Destinataire sur liste noire"),
}
