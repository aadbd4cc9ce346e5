"""``make bench``: the clients' compliance dashboard with 10,000 suppliers and 200,000 document
versions (``VIGIE_BENCH_SUPPLIERS`` changes the count), and the supplier's pending tab ("Documents
en attente de mise à jour") in that same database; the SQL statements of each page are counted at
that size and at a tenth of it (they must not grow).

Seeds PostgreSQL (``VIGIE_BENCH_DATABASE_URL``, default the local server, database vigie_bench),
serves Vigie and a bare Flask + Jinja app rendering the same rows with gunicorn (2 workers each),
and prints requests per second for both, measured in the same run, interleaved, and their ratio.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import insert, select, text

from portal import create_app
from portal.core.clock import today
from portal.core.extensions import db
from portal.demo.seed import seed_demo
from portal.models import Document, DocumentType, DocumentVersion, Organisation, Partnership, utcnow
from tests.support.services import base_config, ensure_pg_database, free_port

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("VIGIE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vigie_bench")
SUPPLIERS, VERSIONS_PER_SUPPLIER = int(os.environ.get("VIGIE_BENCH_SUPPLIERS", "10000")), 20
ROUNDS, REQUESTS_PER_ROUND, THREADS = 11, 150, 4  # rounds: a median of 11 shrugs off the host's bursts


def bench_app(**extra):
    return create_app({**base_config(URL, "/tmp/vigie-bench-instance"), "TESTING": False, **extra})


def empty_database():
    """The bench database, emptied and created afresh; returns an app bound to it."""
    problem = ensure_pg_database(URL)
    if problem:
        sys.exit(f"PostgreSQL unreachable: {problem}")
    app = bench_app()
    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.create_all()
    return app


def analyze() -> None:
    """Statistics, as autovacuum would gather them after such a load (inside an app context)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def claim_todays_slots(app) -> None:
    """Claim every periodic slot of today, so the workers' scheduler enqueues nothing: what is
    measured is the bench's own work, not today's digest or sweeps started by a worker meanwhile."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from portal.core import clock, schedule
    from portal.models import PeriodicRun

    with app.app_context():
        day = clock.today()
        keys = [
            {"key": schedule.slot_key(name, day, slot)}
            for name, _job, _queue, times_key, _catch_up in schedule.PERIODIC
            for slot in schedule.slots(app.config[times_key])
        ]
        db.session.execute(pg_insert(PeriodicRun).on_conflict_do_nothing(), keys)
        db.session.commit()


@contextmanager
def rq_workers(app, redis_url: str, count: int = 2, **extra: str) -> Iterator[list[subprocess.Popen]]:
    """``count`` real ``worker.py`` processes on the bench database and ``redis_url``, stopped on
    exit; today's periodic slots are claimed first (``claim_todays_slots``)."""
    claim_todays_slots(app)
    env = {
        **os.environ,
        "DATABASE_URL": URL,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "VIGIE_INSTANCE_PATH": "/tmp/vigie-bench-instance",
        "MAIL_BACKEND": "outbox",
        **extra,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def server_env(**extra) -> dict:
    """What the gunicorn servers of both apps need."""
    return {
        "DATABASE_URL": URL,
        "SECRET_KEY": "bench",
        "VIGIE_INSTANCE_PATH": "/tmp/vigie-bench-instance",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "BENCH_DATABASE_URL": URL,
        **{key: str(value) for key, value in extra.items()},
    }


def statements(client_id: int) -> dict[str, int]:
    """SQL statements run by each page, in this process (same code as the served app)."""
    from tests.support.data import count_queries
    from tests.support.http import AuthActions

    app = bench_app(LOGIN_RATE_LIMIT="1000 per minute", RATELIMIT_STORAGE_URI="memory://")
    counts = {}
    for name, email, path in (
        ("dashboard", "constructor@vigie.test", "/partners/compliance?page=2"),
        ("pending tab", "fournisseur@vigie.test", "/documents"),
    ):
        client = app.test_client()
        AuthActions(client).login(email)
        client.get(path)  # warm: the first request loads labels and the catalogue
        with count_queries(app) as seen:
            assert client.get(path).status_code == 200
        counts[name] = len(seen)
    with app.app_context():
        db.engine.dispose()
    return counts


def seed(suppliers: int = SUPPLIERS) -> int:
    app = empty_database()
    with app.app_context():
        seed_demo(with_documents=True)  # Menuiserie Martin's file, for the pending tab
        client_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == "521087437"))
        types = db.session.scalars(select(DocumentType.id).order_by(DocumentType.sort_order)).all()[:5]
        statuses = ("compliant", "incomplete", "expired", "in_review")
        start = time.perf_counter()
        organisations = [
            {
                "siren": f"{900000000 + i:09d}",
                "legal_name": f"Fournisseur {i:04d}",
                "legal_form": "SAS",
                "address": "",
                "postal_code": "69000",
                "city": "Lyon",
                "naf_code": "",
                "is_supplier": True,
                "is_client": False,
                "is_agency": False,
                "is_accounting_firm": False,
                "is_operator": False,
                "has_employees": True,
                "created_at": utcnow(),
            }
            for i in range(suppliers)
        ]
        db.session.execute(insert(Organisation), organisations)  # SIRENs need no Luhn check at this layer
        ids = db.session.scalars(select(Organisation.id).where(Organisation.legal_name.like("Fournisseur %"))).all()
        db.session.execute(
            insert(Partnership),
            [
                {
                    "requester_id": client_id,
                    "target_id": oid,
                    "status": "accepted",
                    "requested_at": utcnow(),
                    "decided_at": utcnow(),
                    "compliance_status": statuses[i % 4],
                    "expiring_count": i % 3,
                }
                for i, oid in enumerate(ids)
            ],
        )
        db.session.execute(
            insert(Document),
            [{"organisation_id": oid, "document_type_id": tid, "created_at": utcnow()} for oid in ids for tid in types],
        )
        documents = db.session.execute(
            select(Document.id, Document.organisation_id).where(Document.organisation_id.in_(ids))
        ).all()
        per_document = VERSIONS_PER_SUPPLIER // len(types)
        day = today()
        db.session.execute(
            insert(DocumentVersion),
            [
                {
                    "document_id": did,
                    "organisation_id": oid,
                    "status": "valid" if v == 0 else "archived",
                    "storage_key": "0" * 40,
                    "original_filename": "x.pdf",
                    "content_type": "application/pdf",
                    "size": 1,
                    "sha256": "0" * 64,
                    "issued_on": day - timedelta(days=30 + 200 * v),
                    "valid_until": day + timedelta(days=150 - 200 * v),
                    "uploaded_at": utcnow(),
                    "precheck": {},
                }
                for did, oid in documents
                for v in range(per_document)
            ],
        )
        db.session.commit()
        analyze()
        total = db.session.scalar(select(text("count(*)")).select_from(DocumentVersion))
        print(f"seeded {len(ids)} suppliers and {total} document versions in {time.perf_counter() - start:.1f} s")
        db.engine.dispose()
    return client_id


def serve(target: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/healthz" if target == "wsgi:app" else base, timeout=5)
            return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"{target} did not start")


def logged_in(base: str, email: str = "constructor@vigie.test") -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', session.get(base + "/login").text).group(1)
    session.post(base + "/login", data={"email": email, "password": "vigie-demo", "csrf_token": token})
    return session


def rate(url: str, make_session) -> float:
    sessions = [make_session() for _ in range(THREADS)]
    count = REQUESTS_PER_ROUND // THREADS
    errors = []

    def work(session):
        for _ in range(count):
            response = session.get(url)
            if response.status_code != 200:
                errors.append(response.status_code)

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        sys.exit(f"{url} answered {errors[:3]}")
    return count * THREADS / elapsed


def compare(name: str, ours: str, bare: str, make_session, yardstick: str = "bare Flask+Jinja") -> None:
    for _ in range(2):  # warm up both
        rate(ours, make_session)
        rate(bare, requests.Session)
    ratios = []
    for index in range(ROUNDS):
        vigie = rate(ours, make_session)
        bare_rate = rate(bare, requests.Session)
        ratios.append(vigie / bare_rate)
        print(
            f"round {index + 1}: {name} {vigie:7.1f} req/s · {yardstick} {bare_rate:7.1f} req/s · "
            f"ratio {vigie / bare_rate:.0%}"
        )
    ratios.sort()
    print(f"{name} vs {yardstick} (median of {ROUNDS} interleaved rounds): {ratios[len(ratios) // 2]:.0%} (aim ≥ 50 %)")


def main() -> None:
    import logging

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # the demo's PDFs: no per-glyph chatter
    logging.getLogger("alembic").setLevel(logging.WARNING)
    small = statements(seed(SUPPLIERS // 10))
    client_id = seed()
    large = statements(client_id)
    for name in large:
        print(f"{name}: {small[name]} SQL statements at {SUPPLIERS // 10} suppliers, {large[name]} at {SUPPLIERS}")
        assert small[name] == large[name], f"{name}: the statements grow with the rows"
    env = server_env(BENCH_CLIENT_ID=client_id)
    ours, ours_base = serve("wsgi:app", env)
    bare, bare_base = serve("tests.bench.bare_app:app", env)
    try:
        page = logged_in(ours_base).get(ours_base + "/partners/compliance?page=2").text
        pages = (SUPPLIERS + 49) // 50
        assert f"Page 2 sur {pages}" in page and page.count('<tr id="supplier-') == 50, "unexpected dashboard page"
        compare("dashboard", ours_base + "/partners/compliance?page=2", bare_base + "/", lambda: logged_in(ours_base))
        supplier = lambda: logged_in(ours_base, "fournisseur@vigie.test")  # noqa: E731
        tab = supplier().get(ours_base + "/documents").text
        assert "Documents en attente de mise à jour" in tab and "Document illisible" in tab, "unexpected pending tab"
        compare("pending tab", ours_base + "/documents", bare_base + "/pending", supplier)
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
