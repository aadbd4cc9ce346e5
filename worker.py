"""RQ worker for Vigie: ``REDIS_URL=... python worker.py [queue ...]``.

Runs the queues ``email``, ``sms``, ``sync`` and ``default`` (or those named), with RQ's
scheduler, inside the app context. A sweeper thread re-pushes outbox rows that never reached
Redis (for example while it was down), so a Redis outage delays work but loses none.

A Redis outage does not end the process: when RQ's work loop gives up (it does when a job ends
while Redis is unreachable), the worker waits for Redis with a backoff, logs the outage once,
and starts a fresh work loop in the same process. SIGTERM / SIGINT stop it, as RQ's own do.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from portal import create_app
from portal.core.extensions import db
from portal.core.queue import QUEUE_NAMES, SWEEP_INTERVAL, sweep_once

log = logging.getLogger("vigie.worker")

MAX_BACKOFF = 10  # seconds between two checks while Redis is down


class _Stop:
    """Set by SIGTERM / SIGINT outside RQ's work loop (RQ installs its own handlers inside it)."""

    def __init__(self):
        self.event = threading.Event()

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.event.set())


def wait_for_redis(connection, stop: threading.Event, app) -> bool:
    """Block until Redis answers (True) or a stop is asked for (False), logging the outage once.
    After an outage, every pending outbox row is pushed again at once: a restarted Redis may have
    lost what it held (a row pushed twice still runs once)."""
    from redis.exceptions import RedisError

    delay, since, told = 0.5, time.monotonic(), False
    while not stop.is_set():
        try:
            connection.ping()
        except RedisError as exc:
            if not told:
                log.warning("Redis unreachable (%s): waiting for it, jobs resume when it is back", exc)
                told = True
            stop.wait(delay)
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        if told:
            log.warning("Redis is back after %.0f s: resuming", time.monotonic() - since)
            sweep_once(app, everything=True)
        return True
    return False


def main(argv: list[str]) -> int:
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    app = create_app()
    if not app.config["REDIS_URL"]:
        print("REDIS_URL is not set: the embedded in-process queue needs no worker.", file=sys.stderr)
        return 2
    names = argv or list(QUEUE_NAMES)
    connection = Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)
    stop = _Stop()

    def sweeper() -> None:
        while not stop.event.is_set():
            sweep_once(app)
            stop.event.wait(SWEEP_INTERVAL)

    threading.Thread(target=sweeper, name="vigie-sweeper", daemon=True).start()
    with app.app_context():
        engine = db.engine
        # The work horse is a fork: it must not share the parent's database connections.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        while True:
            stop.install()
            if not wait_for_redis(connection, stop.event, app):
                break
            queues = [Queue(name, connection=connection) for name in names]
            worker = Worker(queues, connection=connection)
            log.info("worker %s (pid %s) listening on %s", worker.name, os.getpid(), ", ".join(names))
            try:
                worker.work(with_scheduler=True)
            except RedisError as exc:  # raised by RQ's teardown while Redis is still down
                log.info("worker %s: work loop ended on a Redis error: %s", worker.name, exc)
            # SIGTERM / SIGINT inside RQ's loop: RQ notes when it was asked, and only sets
            # _stop_requested when a job was running (an idle worker just leaves its loop).
            if worker._stop_requested or worker._shutdown_requested_date is not None or stop.event.is_set():
                break
            # RQ's loop quit on its own (Redis went away under it): wait, then start again.
            stop.event.wait(1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
