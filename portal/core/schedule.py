"""Periodic jobs. Every sweeper tick (in each worker, or in the embedded queue) asks which slots
are due; a slot is claimed by inserting a unique ``periodic_run`` row and its job goes through
the outbox in the same transaction, so several workers never run a slot twice and a slot missed
while everything was down runs once at the next start."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal.core import clock, outbox
from portal.core.extensions import db
from portal.models import PeriodicRun

# name, job, queue, config key holding the times of day (Europe/Paris), whether every missed slot
# of the day runs (daily jobs) or only the latest one (the hourly platform sync).
PERIODIC = (
    ("expiry-sweep", "sweep_expiries", "default", "EXPIRY_SWEEP_TIMES", True),
    ("compliance-snapshot", "snapshot_compliance", "default", "COMPLIANCE_SNAPSHOT_TIMES", True),
    ("vigilance-sweep", "sweep_vigilance", "default", "VIGILANCE_SWEEP_TIMES", True),
    ("follow-up-sweep", "sweep_follow_ups", "default", "FOLLOW_UP_SWEEP_TIMES", True),
    ("digest", "send_digests", "email", "DIGEST_TIMES", True),
    ("storage-sweep", "sweep_stored_files", "default", "STORAGE_SWEEP_TIMES", True),
    ("retention-sweep", "sweep_retention", "default", "RETENTION_SWEEP_TIMES", True),
    ("signature-sync", "sync_signatures", "sync", "SIGNATURE_SYNC_TIMES", True),
    ("platform-sync", "sync_platforms", "sync", "PLATFORM_SYNC_TIMES", False),
)


def slot_key(name: str, day: date, slot: time) -> str:
    """The ``periodic_run`` key that claims one slot of one day."""
    return f"{name}@{day.isoformat()}T{slot:%H:%M}"


def slots(times: list[str]) -> list[time]:
    """A ``*_TIMES`` setting's slots, in order."""
    return sorted(time.fromisoformat(t.strip()) for t in times)


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue the periodic jobs whose slot of today has come; returns the slots claimed."""
    local = (now or clock.now()).astimezone(clock.PARIS)
    claimed = []
    for name, job, queue, times_key, catch_up in PERIODIC:
        due = [slot for slot in slots(current_app.config[times_key]) if slot <= local.time()]
        for slot in due if catch_up else due[-1:]:
            key = slot_key(name, local.date(), slot)
            db.session.add(PeriodicRun(key=key))
            outbox.enqueue(job, queue=queue)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                continue
            claimed.append(key)
    return claimed
