"""The transactional outbox: work is written with the data, pushed to a queue after commit.

A service calls ``enqueue()`` inside its transaction. When that transaction commits, the new
rows are handed to the queue (RQ or the in-process queue). If the push fails (Redis down), the
rows stay ``pending`` and ``sweep()`` hands them over again later: nothing promised is lost.
``run()`` claims a row with a conditional UPDATE, so a row pushed twice still runs once.

While a job runs, a heartbeat renews its lease every ``OUTBOX_HEARTBEAT`` seconds on a
connection of its own. A row whose heartbeat is older than ``OUTBOX_LEASE`` (its worker was
killed) is handed over again by the sweeper, about a minute later; the run that took it over is
the only one allowed to record the outcome: every write is conditional on the attempt it claimed.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event, func, or_, select, true, update
from sqlalchemy.orm import Session

from portal.core.extensions import db
from portal.models import OutboxJob, utcnow

log = logging.getLogger(__name__)

_NEW_ROWS = "vigie_outbox_new"


class RetryLater(Exception):
    """A handler raises this (or any error) to be tried again after a backoff."""


def enqueue(job: str, *, queue: str = "default", **args: int | str) -> OutboxJob:
    row = OutboxJob(job=job, queue=queue, args=args)
    db.session.add(row)
    return row


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def run(outbox_id: int) -> str:
    """Claim the row, run its handler, record the outcome. Safe to call twice."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == outbox_id, OutboxJob.status == "pending", OutboxJob.run_after <= now)
        .values(status="running", attempts=OutboxJob.attempts + 1, started_at=now, heartbeat_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    row = db.session.get(OutboxJob, outbox_id, populate_existing=True)
    job, args, attempt = row.job, dict(row.args), row.attempts
    log.info("outbox %s: running %s(%s), attempt %s", outbox_id, job, args, attempt)
    with _Heartbeat(outbox_id, attempt):
        try:
            current_app.extensions["vigie_queue"].tasks[job](**args)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            db.session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempt >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                outcome = {"status": "failed", "finished_at": utcnow()}
            else:
                outcome = {"status": "pending", "pushed_at": None, "run_after": utcnow() + backoff(attempt)}
            _record(outbox_id, attempt, last_error=error, **outcome)
            log.warning("outbox %s: %s failed: %s", outbox_id, job, error)
            return "failed"
    _record(outbox_id, attempt, status="done", last_error=None, finished_at=utcnow())
    return "done"


def _record(outbox_id: int, attempt: int, **values) -> None:
    """The outcome, written only by the run that holds the row (same attempt, still running)."""
    written = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == outbox_id, OutboxJob.status == "running", OutboxJob.attempts == attempt)
        .values(**values)
    ).rowcount
    db.session.commit()
    if not written:
        log.warning("outbox %s: attempt %s lost its lease; its outcome is not recorded", outbox_id, attempt)


class _Heartbeat:
    """Renews a running row's lease from a thread, on a connection of its own."""

    def __init__(self, outbox_id: int, attempt: int):
        self.outbox_id, self.attempt = outbox_id, attempt
        self.engine = db.engine
        self.interval = current_app.config["OUTBOX_HEARTBEAT"]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"vigie-heartbeat-{outbox_id}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _beat(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(OutboxJob)
                        .where(
                            OutboxJob.id == self.outbox_id,
                            OutboxJob.status == "running",
                            OutboxJob.attempts == self.attempt,
                        )
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("outbox %s: heartbeat failed", self.outbox_id, exc_info=True)


def due_rows(now=None, *, everything: bool = False) -> list[tuple[int, str]]:
    """Rows that should be in a queue but may not be: never pushed, lost, or due for retry.
    ``everything``: every pending row that is due, pushed or not (Redis restarted, its queues lost)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["OUTBOX_SWEEP_AFTER"])
    # A row is pushed right after its commit: one still unpushed a few seconds later never made it.
    unpushed_cutoff = now - timedelta(seconds=min(5, current_app.config["OUTBOX_SWEEP_AFTER"]))
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE"])
    db.session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.status == "running",
            func.coalesce(OutboxJob.heartbeat_at, OutboxJob.started_at) < now - lease,
        )
        .values(status="pending", pushed_at=None)
    )
    rows = db.session.execute(
        select(OutboxJob.id, OutboxJob.queue)
        .where(
            OutboxJob.status == "pending",
            OutboxJob.run_after <= now,
            true()
            if everything
            else or_(
                OutboxJob.pushed_at < cutoff,
                (OutboxJob.pushed_at.is_(None)) & (OutboxJob.created_at < unpushed_cutoff),
                (OutboxJob.pushed_at.is_(None)) & (OutboxJob.attempts > 0),
            ),
        )
        .order_by(OutboxJob.id)
        .limit(1000)
    ).all()
    db.session.commit()
    return [(row.id, row.queue) for row in rows]


def sweep(*, everything: bool = False) -> int:
    """Hand over again what was left behind; returns how many rows were pushed."""
    rows = due_rows(everything=everything)
    if rows:
        current_app.extensions["vigie_queue"].push(rows)
    return len(rows)


def mark_pushed(ids: list[int]) -> None:
    """Record a successful push, on a connection of its own (we may be right after a commit)."""
    if not ids:
        return
    with db.engine.begin() as conn:
        conn.execute(update(OutboxJob).where(OutboxJob.id.in_(ids)).values(pushed_at=utcnow()))


@event.listens_for(Session, "after_flush")
def _collect_new_rows(session: Session, _context) -> None:
    now = utcnow()
    for obj in session.new:
        # A row due later (a delivery report, a scheduled campaign) is pushed by the sweeper once due.
        if isinstance(obj, OutboxJob) and not (obj.run_after and obj.run_after > now):
            session.info.setdefault(_NEW_ROWS, []).append((obj.id, obj.queue))


@event.listens_for(Session, "after_commit")
def _push_after_commit(session: Session) -> None:
    rows = session.info.pop(_NEW_ROWS, None)
    if rows and has_app_context():
        current_app.extensions["vigie_queue"].push(rows)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_NEW_ROWS, None)
