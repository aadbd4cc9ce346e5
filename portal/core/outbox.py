"""The transactional outbox: work is written with the data, pushed to a queue after commit.

A service calls ``enqueue()`` inside its transaction. When that transaction commits, the new
rows are handed to the queue (RQ or the in-process queue). If the push fails (Redis down), the
rows stay ``pending`` and ``sweep()`` hands them over again later: nothing promised is lost.
``run()`` claims a row with a conditional UPDATE, so a row pushed twice still runs once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from portal.core.extensions import db
from portal.models import OutboxJob, utcnow

log = logging.getLogger(__name__)

_NEW_ROWS = "vigie_outbox_new"
STALE_RUNNING = timedelta(minutes=15)


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
        .values(status="running", attempts=OutboxJob.attempts + 1, started_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    row = db.session.get(OutboxJob, outbox_id, populate_existing=True)
    log.info("outbox %s: running %s(%s), attempt %s", row.id, row.job, row.args, row.attempts)
    try:
        current_app.extensions["vigie_queue"].tasks[row.job](**row.args)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        db.session.rollback()
        row = db.session.get(OutboxJob, outbox_id, populate_existing=True)
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            row.status = "failed"
            row.finished_at = utcnow()
        else:
            row.status = "pending"
            row.pushed_at = None
            row.run_after = utcnow() + backoff(row.attempts)
        db.session.commit()
        log.warning("outbox %s: %s failed: %s", row.id, row.job, row.last_error)
        return "failed"
    row.status = "done"
    row.last_error = None
    row.finished_at = utcnow()
    db.session.commit()
    return "done"


def due_rows(now=None) -> list[tuple[int, str]]:
    """Rows that should be in a queue but may not be: never pushed, lost, or due for retry."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["OUTBOX_SWEEP_AFTER"])
    db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.status == "running", OutboxJob.started_at < now - STALE_RUNNING)
        .values(status="pending", pushed_at=None)
    )
    rows = db.session.execute(
        select(OutboxJob.id, OutboxJob.queue)
        .where(
            OutboxJob.status == "pending",
            OutboxJob.run_after <= now,
            or_(
                OutboxJob.pushed_at < cutoff,
                (OutboxJob.pushed_at.is_(None)) & (OutboxJob.created_at < cutoff),
                (OutboxJob.pushed_at.is_(None)) & (OutboxJob.attempts > 0),
            ),
        )
        .order_by(OutboxJob.id)
        .limit(1000)
    ).all()
    db.session.commit()
    return [(row.id, row.queue) for row in rows]


def sweep() -> int:
    """Hand over again what was left behind; returns how many rows were pushed."""
    rows = due_rows()
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
    for obj in session.new:
        if isinstance(obj, OutboxJob):
            session.info.setdefault(_NEW_ROWS, []).append((obj.id, obj.queue))


@event.listens_for(Session, "after_commit")
def _push_after_commit(session: Session) -> None:
    rows = session.info.pop(_NEW_ROWS, None)
    if rows and has_app_context():
        current_app.extensions["vigie_queue"].push(rows)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_NEW_ROWS, None)
