"""RQ entry points. Each takes ids, loads what it needs, calls a service. All safe to run twice."""

from __future__ import annotations

from portal.services import notifications, outbox


def run_outbox(outbox_id: int) -> str:
    """The one function RQ runs (inside worker.py's app context): claim a row, run its handler."""
    return outbox.run(outbox_id)


def deliver_message(message_id: int) -> None:
    notifications.deliver(message_id)


HANDLERS = {
    "deliver_message": deliver_message,
}
