"""RQ entry points. Each takes ids, loads what it needs, calls a service. All safe to run twice."""

from __future__ import annotations

from flask import current_app

from portal.services import (
    client_imports,
    expiry,
    folder_trees,
    notifications,
    outbox,
    platform_sync,
    reminder_campaigns,
    signature_sync,
)


def run_outbox(outbox_id: int) -> str:
    """The one function RQ runs (inside worker.py's app context): claim a row, run its handler."""
    return outbox.run(outbox_id)


def deliver_message(message_id: int) -> None:
    notifications.deliver(message_id)


def send_reminders(campaign_id: int, first_id: int, last_id: int) -> None:
    """A chunk of a reminder campaign: one message per recipient that has none yet."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        reminder_campaigns.send_chunk(campaign_id, first_id, last_id)


def sync_signatures() -> None:
    """Twice a day: ask the e-signature provider about every contract awaiting signature."""
    signature_sync.run_all()


def sync_agency_signatures(agency_id: int) -> None:
    signature_sync.run_for_agency(agency_id, trigger="manual")


def sweep_expiries() -> None:
    """Daily: expiring/expired states and reminders (links in emails use PUBLIC_URL)."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        expiry.sweep()


def build_tree(client_file_id: int) -> None:
    """A client file's folder tree, monthly folders included; adds only what is missing."""
    folder_trees.build(client_file_id)


def import_clients(batch_id: int) -> None:
    """A confirmed bulk import: the valid rows not handled yet (resumable)."""
    client_imports.run(batch_id)


def sync_platforms() -> None:
    """Hourly: a sync job for every company whose platform sync is on."""
    platform_sync.run_all()


def sync_platform(connection_id: int, trigger: str = "periodic") -> None:
    """One company with one platform; does nothing when its sync is off."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        platform_sync.run(connection_id, trigger)


HANDLERS = {
    "sync_platforms": sync_platforms,
    "sync_platform": sync_platform,
    "build_tree": build_tree,
    "import_clients": import_clients,
    "deliver_message": deliver_message,
    "sweep_expiries": sweep_expiries,
    "send_reminders": send_reminders,
    "sync_signatures": sync_signatures,
    "sync_agency_signatures": sync_agency_signatures,
}
