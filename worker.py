"""RQ worker for Vigie: ``REDIS_URL=... python worker.py [queue ...]``.

Runs the queues ``email``, ``sms``, ``sync`` and ``default`` (or those named), with RQ's
scheduler, inside the app context. A sweeper thread re-pushes outbox rows that never reached
Redis (for example while it was down), so a Redis outage delays work but loses none.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from portal import create_app
from portal.core.extensions import db
from portal.core.queue import QUEUE_NAMES, SWEEP_INTERVAL, sweep_once

log = logging.getLogger("vigie.worker")


def main(argv: list[str]) -> int:
    from redis import Redis
    from rq import Queue, Worker

    app = create_app()
    if not app.config["REDIS_URL"]:
        print("REDIS_URL is not set: the embedded in-process queue needs no worker.", file=sys.stderr)
        return 2
    names = argv or list(QUEUE_NAMES)
    connection = Redis.from_url(app.config["REDIS_URL"])

    def sweeper() -> None:
        while True:
            sweep_once(app)
            time.sleep(SWEEP_INTERVAL)

    threading.Thread(target=sweeper, name="vigie-sweeper", daemon=True).start()
    with app.app_context():
        engine = db.engine
        # The work horse is a fork: it must not share the parent's database connections.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        queues = [Queue(name, connection=connection) for name in names]
        worker = Worker(queues, connection=connection)
        log.info("worker %s listening on %s", worker.name, ", ".join(names))
        worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
