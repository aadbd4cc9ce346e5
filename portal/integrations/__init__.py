"""Adapters to the outside world. No database access here: they take values, return values."""

from dataclasses import dataclass


class DeliveryError(Exception):
    """A provider refused or could not take a message.

    ``permanent`` failures (bad address, refused credentials, no credit) are not retried
    automatically; the others are, with a backoff.
    """

    def __init__(self, reason: str, *, permanent: bool = False, bounced: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or bounced
        self.bounced = bounced  # the address itself cannot receive mail (hard bounce)


@dataclass(frozen=True)
class Outgoing:
    """What an adapter needs to send one message."""

    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str | None = None
    tag: str = ""


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    segments: int | None = None
