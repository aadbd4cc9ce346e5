"""Email backends: real SMTP, and the dev outbox (nothing leaves; shown on /dev/outbox)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from portal.integrations import DeliveryError, Outgoing, Receipt


class OutboxMailer:
    """The development outbox: keeps every email; an address whose local part is ``bounce`` (or
    starts with ``bounce+``) bounces, as a real server refuses an unknown mailbox."""

    def send(self, message: Outgoing) -> Receipt:
        local = message.recipient.split("@", 1)[0]
        if local == "bounce" or local.startswith("bounce+"):
            raise DeliveryError("550 5.1.1 Adresse inconnue (outbox de développement)", bounced=True)
        return Receipt(provider_id=f"dev-email-{message.id}")


class SMTPMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10,
    ):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.use_tls, self.use_ssl, self.timeout = use_tls, use_ssl, timeout

    def build(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(idstring=f"vigie-{message.id}")
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        return email

    def send(self, message: Outgoing) -> Receipt:
        email = self.build(message)
        connection_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        try:
            with connection_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = ", ".join(f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values())
            bounced = all(500 <= code < 600 for code, _text in exc.recipients.values())
            raise DeliveryError(
                f"Adresse refusée par le serveur SMTP : {codes}", permanent=True, bounced=bounced
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError("Identifiants SMTP refusés", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"Serveur SMTP : {exc.smtp_code} {text}", permanent=500 <= exc.smtp_code < 600) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"Serveur SMTP injoignable : {exc}") from exc
        return Receipt(provider_id=email["Message-ID"])
