"""PostgreSQL + Redis + a real `python worker.py` process, end to end.

Skipped when the services are unreachable, failed instead under VIGIE_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db
from portal.models import Message, OutboxJob, utcnow
from portal.seed import seed_demo
from tests.conftest import _base_config, free_port, token_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.slow]


def _app(database_url: str, redis_url: str, tmp_path):
    app = create_app(
        {**_base_config(database_url, str(tmp_path / "instance")), "QUEUE_BACKEND": "rq", "REDIS_URL": redis_url}
    )
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        seed_demo()
    return app


def _start_worker(database_url: str, redis_url: str, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "VIGIE_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "MAIL_BACKEND": "outbox",
        "SMS_BACKEND": "outbox",
    }
    log = (tmp_path / "worker.log").open("w")
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_sent(app, timeout: float = 40) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            message = db.session.scalar(select(Message))
            if message is not None and message.status == "sent":
                return message
            db.session.remove()
        time.sleep(0.25)
    raise AssertionError("the worker did not deliver the message in time")


def _ask_for_reset(app) -> None:
    client = app.test_client()
    token = token_for(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "fournisseur@vigie.test", "csrf_token": token})
    assert response.status_code == 200


def test_real_worker_delivers_an_email_queued_by_the_web_app(pg_schema, redis_url, tmp_path):
    app = _app(pg_schema, redis_url, tmp_path)
    _ask_for_reset(app)
    with app.app_context():
        row = db.session.scalar(select(OutboxJob))
        assert row.pushed_at is not None  # went to Redis right after commit
    worker = _start_worker(pg_schema, redis_url, tmp_path)
    try:
        message = _wait_for_sent(app)
    finally:
        _stop(worker)
    assert message.attempts == 1
    with app.app_context():
        assert db.session.scalar(select(OutboxJob.status)) == "done"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")
def test_redis_down_then_back_loses_nothing(pg_schema, redis_url, tmp_path):
    port = free_port()
    down_url = f"redis://127.0.0.1:{port}/0"
    app = _app(pg_schema, down_url, tmp_path)
    started = time.monotonic()
    _ask_for_reset(app)  # Redis is down: the user still gets his answer
    assert time.monotonic() - started < 5
    with app.app_context():
        row = db.session.scalar(select(OutboxJob))
        assert row.status == "pending" and row.pushed_at is None
        # A minute goes by while Redis is down.
        db.session.execute(db.update(OutboxJob).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    worker = None
    try:
        time.sleep(0.5)
        worker = _start_worker(pg_schema, down_url, tmp_path)
        message = _wait_for_sent(app)
    finally:
        if worker:
            _stop(worker)
        redis.terminate()
        redis.wait(timeout=10)
    assert message.attempts == 1
    with app.app_context():
        assert db.session.scalar(select(OutboxJob.status)) == "done"
