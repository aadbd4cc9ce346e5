"""Queue backends that carry outbox rows to workers.

- ``RQQueue``: Redis + RQ, for production (``REDIS_URL`` set); run ``python worker.py``.
- ``InProcessQueue``: the embedded default; worker and sweeper threads inside the web process.
- ``ManualQueue``: for tests; records pushes and runs them when the test calls ``drain()``.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading

from flask import Flask

from portal.core import outbox, schedule
from portal.core.extensions import db

log = logging.getLogger(__name__)

JOB_TIMEOUTS = {"email": 60, "sms": 60, "sync": 900, "default": 300}
QUEUE_NAMES = tuple(JOB_TIMEOUTS)
SWEEP_INTERVAL = 15


def run_outbox(outbox_id: int) -> str:
    """What RQ runs (inside worker.py's app context): claim an outbox row and run its task."""
    return outbox.run(outbox_id)


def run_one(app: Flask, outbox_id: int) -> str:
    with app.app_context():
        try:
            return outbox.run(outbox_id)
        finally:
            db.session.remove()


_sweep_failing = threading.Event()


def sweep_once(app: Flask, *, everything: bool = False) -> int:
    """One pass of the sweeper; ``everything``: re-push every pending row (Redis came back)."""
    with app.app_context():
        try:
            schedule.tick()
            swept = outbox.sweep(everything=everything)
        except Exception:  # noqa: BLE001 - the sweeper must survive a database or Redis outage
            if not _sweep_failing.is_set():  # once per outage, not every 15 s
                log.exception("outbox sweep failed; retrying every %s s", SWEEP_INTERVAL)
            _sweep_failing.set()
            return 0
        finally:
            db.session.remove()
        if _sweep_failing.is_set():
            log.warning("outbox sweep works again")
            _sweep_failing.clear()
        return swept


class RQQueue:
    def __init__(self, app: Flask, tasks: dict):
        self.tasks = tasks
        from redis import Redis

        self.app = app
        self.redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        self.outage = False  # logged once per outage, not once per push

    def rq_queue(self, name: str):
        from rq import Queue

        return Queue(name, connection=self.redis, default_timeout=JOB_TIMEOUTS.get(name, 300))

    def push(self, rows: list[tuple[int, str]]) -> None:
        from redis.exceptions import RedisError

        pushed = []
        for outbox_id, name in rows:
            try:
                self.rq_queue(name).enqueue(run_outbox, outbox_id, description=f"outbox {outbox_id}")
            except RedisError as exc:
                if not self.outage:
                    log.warning("Redis unavailable, outbox rows stay pending until it is back: %s", exc)
                self.outage = True
                break
            pushed.append(outbox_id)
        else:
            if self.outage and rows:
                log.warning("Redis is back: pending outbox rows pushed again")
            self.outage = False
        outbox.mark_pushed(pushed)

    def start(self) -> None:
        """Workers are separate processes (worker.py)."""

    def stop(self) -> None:
        pass


class InProcessQueue:
    def __init__(self, app: Flask, tasks: dict):
        self.tasks = tasks
        self.app = app
        self.items: stdlib_queue.Queue[int | None] = stdlib_queue.Queue()
        self._lock = threading.Lock()
        self._started = False
        self._stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def push(self, rows: list[tuple[int, str]]) -> None:
        self.start()
        for outbox_id, _name in rows:
            self.items.put(outbox_id)
        outbox.mark_pushed([outbox_id for outbox_id, _ in rows])

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self.threads = [
            threading.Thread(target=self._work, name="vigie-worker", daemon=True),
            threading.Thread(target=self._sweep, name="vigie-sweeper", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """End both threads (tests: a forgotten sweeper would keep claiming real slots)."""
        self._stopping.set()
        self.items.put(None)

    def _work(self) -> None:
        while not self._stopping.is_set():
            outbox_id = self.items.get()
            if outbox_id is None:
                break
            try:
                run_one(self.app, outbox_id)
            except Exception:  # noqa: BLE001 - keep the worker thread alive
                log.exception("outbox %s crashed", outbox_id)

    def _sweep(self) -> None:
        while not self._stopping.wait(SWEEP_INTERVAL):
            sweep_once(self.app)


class ManualQueue:
    def __init__(self, app: Flask, tasks: dict):
        self.tasks = tasks
        self.app = app
        self.pushed: list[int] = []

    def push(self, rows: list[tuple[int, str]]) -> None:
        self.pushed.extend(outbox_id for outbox_id, _ in rows)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def drain(self) -> list[str]:
        results = []
        while self.pushed:
            results.append(run_one(self.app, self.pushed.pop(0)))
        return results


BACKENDS = {"rq": RQQueue, "inprocess": InProcessQueue, "manual": ManualQueue}


def init_app(app: Flask, tasks: dict) -> None:
    """``tasks``: every job by name (``portal.tasks.TASKS``), handed over by create_app."""
    app.extensions["vigie_queue"] = BACKENDS[app.config["QUEUE_BACKEND"]](app, tasks)
