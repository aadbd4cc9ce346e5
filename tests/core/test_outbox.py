"""The outbox: work is saved with the data, pushed after commit, run once, retried, swept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core import outbox
from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import Message, OutboxJob, utcnow
from tests.support.data import drain


def _queue_sms(app, text="Bonjour") -> int:
    with app.test_request_context():
        message = notifications.queue_sms("+33612345678", text)
        db.session.commit()
        return message.id


def test_rows_are_pushed_only_after_commit(app):
    queue = app.extensions["vigie_queue"]
    with app.test_request_context():
        notifications.queue_sms("+33612345678", "Bonjour")
        db.session.flush()
        assert queue.pushed == []
        db.session.commit()
        assert len(queue.pushed) == 1


def test_rolled_back_work_is_never_pushed(app):
    queue = app.extensions["vigie_queue"]
    with app.test_request_context():
        notifications.queue_sms("+33612345678", "Bonjour")
        db.session.flush()
        db.session.rollback()
        assert queue.pushed == []
        assert db.session.scalar(select(OutboxJob)) is None
        assert db.session.scalar(select(Message)) is None


def test_a_job_runs_once_even_when_pushed_twice(app):
    message_id = _queue_sms(app)
    queue = app.extensions["vigie_queue"]
    queue.pushed.append(queue.pushed[0])
    assert drain(app) == ["done", "skipped"]
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message.status == "sent" and message.attempts == 1


def test_failing_handler_is_retried_with_backoff_then_marked_failed(app, monkeypatch):
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("provider exploded")

    monkeypatch.setitem(app.extensions["vigie_queue"].tasks, "broken", broken)
    with app.app_context():
        row = outbox.enqueue("broken", thing=1)
        db.session.commit()
        row_id = row.id
    assert drain(app) == ["failed"]
    with app.app_context():
        row = db.session.get(OutboxJob, row_id)
        assert row.status == "pending" and row.attempts == 1
        assert row.last_error == "RuntimeError: provider exploded"
        assert row.run_after > utcnow() + timedelta(seconds=20)
        assert outbox.due_rows() == []
        for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"] - 1):
            db.session.execute(db.update(OutboxJob).values(run_after=utcnow()))
            db.session.commit()
            assert outbox.run(row_id) == "failed"
        row = db.session.get(OutboxJob, row_id, populate_existing=True)
        assert row.status == "failed" and row.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
    assert len(calls) == app.config["OUTBOX_MAX_ATTEMPTS"]


def test_sweeper_pushes_rows_left_behind_for_a_minute(app):
    _queue_sms(app)
    queue = app.extensions["vigie_queue"]
    queue.pushed.clear()  # as if Redis had been down at commit time
    with app.app_context():
        assert outbox.sweep() == 0  # too recent: a worker may still pick it up
        db.session.execute(db.update(OutboxJob).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
        assert outbox.sweep() == 1
    assert drain(app) == ["done"]
    with app.app_context():
        assert db.session.scalar(select(Message.status)) == "sent"
        assert outbox.sweep() == 0


def test_sweeper_revives_a_job_whose_worker_died(app):
    _queue_sms(app)
    with app.app_context():
        started = utcnow() - timedelta(seconds=75)  # killed 75 s ago: its last heartbeat is that old
        db.session.execute(
            db.update(OutboxJob).values(status="running", attempts=1, started_at=started, heartbeat_at=started)
        )
        db.session.commit()
        assert outbox.sweep() == 1
    app.extensions["vigie_queue"].pushed[:] = app.extensions["vigie_queue"].pushed[-1:]
    assert drain(app) == ["done"]


def test_a_long_job_whose_heartbeat_is_fresh_is_left_to_its_worker(app):
    _queue_sms(app)
    with app.app_context():
        db.session.execute(
            db.update(OutboxJob).values(
                status="running",
                attempts=1,
                started_at=utcnow() - timedelta(hours=2),
                heartbeat_at=utcnow() - timedelta(seconds=10),
            )
        )
        db.session.commit()
        assert outbox.sweep() == 0
        assert db.session.scalar(select(OutboxJob.status)) == "running"


def test_a_running_job_renews_its_lease(app, monkeypatch):
    import time

    beats = []

    def slow(**_kwargs):
        time.sleep(0.7)
        with db.engine.connect() as conn:
            beats.append(conn.execute(select(OutboxJob.heartbeat_at, OutboxJob.started_at)).one())

    monkeypatch.setitem(app.extensions["vigie_queue"].tasks, "deliver_message", slow)
    app.config["OUTBOX_HEARTBEAT"] = 0.2
    _queue_sms(app)
    assert drain(app) == ["done"]
    heartbeat, started = beats[0]
    assert heartbeat > started + timedelta(seconds=0.3)


def test_a_run_that_lost_its_lease_does_not_record_its_outcome(app, monkeypatch):
    def taken_over(**_kwargs):
        # Meanwhile the sweeper handed the row over and another worker claimed it (attempt 2).
        with db.engine.begin() as conn:
            conn.execute(db.update(OutboxJob).values(attempts=2, status="running"))

    monkeypatch.setitem(app.extensions["vigie_queue"].tasks, "deliver_message", taken_over)
    _queue_sms(app)
    assert drain(app) == ["done"]
    with app.app_context():
        row = db.session.scalar(select(OutboxJob))
        assert row.status == "running" and row.attempts == 2 and row.finished_at is None


@pytest.mark.slow
def test_in_process_queue_runs_jobs_in_the_background(make_app):
    import time

    app = make_app(QUEUE_BACKEND="inprocess")
    message_id = _queue_sms(app)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session.get(Message, message_id).status == "sent":
                break
        time.sleep(0.1)
    with app.app_context():
        assert db.session.get(Message, message_id).status == "sent"
    queue = app.extensions["vigie_queue"]
    queue.stop()
    for thread in queue.threads:
        thread.join(timeout=5)
    assert queue.threads and not any(thread.is_alive() for thread in queue.threads)
