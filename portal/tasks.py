"""Every background job, by name: the one registry the outbox runs from.

A feature queues work with ``outbox.enqueue("build_tree", client_file_id=...)`` in its transaction;
after commit the row reaches a worker, which calls the function of that name here with the row's
arguments. Each task takes ids, loads what it needs and calls the feature's use-case; all are safe
to run twice. ``create_app`` hands ``TASKS`` to the queue: nothing else imports this module but
``worker.py`` and the cli, so the queue and the outbox never depend on the features.
"""

from __future__ import annotations

from datetime import date

from flask import current_app

from portal.contracts import campaigns, signature_sync
from portal.core import storage
from portal.documents import expiry, retention, versions
from portal.firm import import_run, trees
from portal.messaging import notices, notifications, webhooks
from portal.notifications import follow_ups
from portal.partners import proof, requirements, snapshots, vigilance
from portal.platforms import sync


def deliver_message(message_id: int) -> None:
    notifications.deliver(message_id)


def dev_sms_report(provider_id: str) -> None:
    notifications.dev_sms_report(provider_id)


def send_reminders(campaign_id: int, first_id: int, last_id: int) -> None:
    """A chunk of a reminder campaign: one message per recipient that has none yet."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        campaigns.send_chunk(campaign_id, first_id, last_id)


def sync_signatures() -> None:
    """Twice a day: ask the e-signature provider about every contract awaiting signature."""
    signature_sync.run_all()


def sync_agency_signatures(agency_id: int) -> None:
    signature_sync.run_for_agency(agency_id, trigger="manual")


def sweep_expiries() -> None:
    """Daily: expiring/expired states and reminders (links in emails use PUBLIC_URL)."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        expiry.sweep()


def snapshot_compliance() -> None:
    """Daily, after the expiry sweep: every accepted partnership's compliance status that day."""
    snapshots.take()


def sweep_vigilance() -> None:
    """Daily, after the expiry sweep: the legal checkpoints of the day and the suppliers' reminders."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        vigilance.sweep()


def sweep_retention() -> None:
    """Daily: the files past their retention are removed; their rows and hashes stay."""
    retention.sweep()


def send_digests() -> None:
    """Daily, 08:00 Paris: one chunk job per batch of users with notices waiting (Mondays: the
    weekly ones too)."""
    notices.run()


def send_digest_chunk(user_ids: str, day: str) -> None:
    """One digest per user of the batch, then their delivery (safe to run twice)."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        notices.send_chunk([int(i) for i in user_ids.split(",") if i], date.fromisoformat(day))


def sweep_follow_ups() -> None:
    """Daily: the invitations not accepted yet are reminded on their company's cadence, or stop."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        follow_ups.sweep()


def tell_new_requirements(client_id: int, supplier_id: int, codes: str) -> None:
    """After a client saves new requirements: its suppliers' notices."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        requirements.tell_new(client_id, supplier_id, codes.split(","))


def build_proof(proof_id: int) -> None:
    """A client's proof file (ZIP) for one supplier; a ready one is left as it is."""
    proof.build(proof_id)


def sweep_stored_files() -> None:
    """Daily: files older than a day that no row names (a process killed between write and commit)."""
    storage.sweep_orphans()


def build_tree(client_file_id: int) -> None:
    """A client file's folder tree, monthly folders included; adds only what is missing."""
    trees.build(client_file_id)


def import_clients(batch_id: int) -> None:
    """A confirmed bulk import: the valid rows not handled yet (resumable)."""
    import_run.run(batch_id)


def sync_platforms() -> None:
    """Hourly: a sync job for every company whose platform sync is on."""
    sync.run_all()


def finish_precheck(version_id: int) -> None:
    """The pre-check of an upload whose text took too long to read during the request."""
    versions.finish_precheck(version_id)


def sync_platform(connection_id: int, trigger: str = "periodic") -> None:
    """One company with one platform; does nothing when its sync is off."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        sync.run(connection_id, trigger)


def deliver_webhook(delivery_id: int, once: int = 0) -> None:
    """One try of a webhook delivery (the next is scheduled when it fails); links use PUBLIC_URL."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        webhooks.deliver(delivery_id, once=bool(once))


TASKS = {
    task.__name__: task
    for task in (
        deliver_message,
        dev_sms_report,
        send_reminders,
        sync_signatures,
        sync_agency_signatures,
        sweep_stored_files,
        sweep_expiries,
        snapshot_compliance,
        sweep_vigilance,
        build_proof,
        send_digests,
        send_digest_chunk,
        sweep_follow_ups,
        tell_new_requirements,
        sweep_retention,
        build_tree,
        import_clients,
        sync_platforms,
        sync_platform,
        finish_precheck,
        deliver_webhook,
    )
}
