"""``make bench``, accounting firms: a 10,000-row bulk import (preview + import), the client list
with 10,000 files beside a bare Flask + Jinja page of the same 50 rows, and the folder trees of
1,000 clients (3 fiscal years of monthly folders each) built by 2 real workers while the web
process keeps answering.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from datetime import date

from sqlalchemy import delete, func, select

from portal.core import outbox, tenancy
from portal.core.extensions import db
from portal.demo.firm import FIRM_SIREN
from portal.demo.seed import seed_demo
from portal.firm import import_files, import_run, imports
from portal.models import ClientFile, FiscalYear, Folder, ImportBatch, Organisation, OutboxJob, User
from tests.bench.dashboard import (
    analyze,
    bench_app,
    compare,
    empty_database,
    logged_in,
    rate,
    rq_workers,
    serve,
    server_env,
)

REDIS = os.environ.get("VIGIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROWS, TREES = 10_000, 1_000


def _siret(n: int) -> str:
    from stdnum import luhn

    siren = f"8{n:07d}"
    siren += luhn.calc_check_digit(siren)
    head = siren + "0001"
    return head + luhn.calc_check_digit(head)


def import_file() -> bytes:
    lines = [",".join(import_files.HEADERS)]
    for n in range(ROWS):
        start = ("01/01/2024", "01/07/2024", "01/10/2024")[n % 3]
        email = f"dirigeant{n}@client.test" if n % 2 else ""
        collaborator = "collaboratrice@vigie.test" if n % 4 == 0 else ""
        lines.append(f"{_siret(n)},Client {n:05d},{start},,{email},Nom{n},Prénom,{collaborator},")
    return ("\n".join(lines) + "\n").encode()


def bench_import(app) -> tuple[int, int]:
    data = import_file()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == "cabinet@vigie.test"))
        membership = next(m for m in tenancy.memberships_of(user.id) if m.organisation.is_accounting_firm)
        current = tenancy.Tenancy(membership=membership, memberships=[membership])
        started = time.perf_counter()
        batch = imports.preview(current, user, "bench.csv", data)
        previewed = time.perf_counter() - started
        imports.confirm(current, user, batch.id)
        importing = time.perf_counter()
        import_run.run(batch.id)
        imported = time.perf_counter() - importing
        batch = db.session.get(ImportBatch, batch.id)
        total = previewed + imported
        print(
            f"bulk import of {ROWS} rows: preview {previewed:.1f} s + import {imported:.1f} s = {total:.1f} s "
            f"({batch.created} files created; aim < 20 s)"
        )
        return membership.organisation_id, batch.id


def bench_list(firm_id: int) -> tuple[subprocess.Popen, str]:
    app = bench_app()
    with app.app_context():
        analyze()
        files = db.session.scalar(select(func.count()).select_from(ClientFile).where(ClientFile.firm_id == firm_id))
    client = app.test_client()
    from tests.support.http import login

    login(client, "cabinet@vigie.test")
    from tests.support.data import count_queries

    counts = []
    for page in (1, 2, 100):
        with count_queries(app) as statements:
            assert client.get(f"/firm/clients?page={page}").status_code == 200
        counts.append(len(statements))
    print(f"client list with {files} files: {counts} SQL statements on pages 1, 2 and 100 (constant)")
    env = server_env(BENCH_FIRM_ID=firm_id, BENCH_CLIENT_ID=0)
    ours, ours_base = serve("wsgi:app", env)
    bare, bare_base = serve("tests.bench.bare_app:app", env)
    session = lambda: logged_in(ours_base, "cabinet@vigie.test")  # noqa: E731
    try:
        page = session().get(ours_base + "/firm/clients?page=2").text
        assert page.count('<tr id="client-file-') == 50, "unexpected client list"
        compare("client list", ours_base + "/firm/clients?page=2", bare_base + "/clients", session)
    finally:
        bare.terminate()
        bare.wait(timeout=20)
    return ours, ours_base


def bench_trees(firm_id: int, ours_base: str) -> None:
    """Build 1,000 trees (3 fiscal years each) with 2 workers; the web keeps its pace meanwhile."""
    from redis import Redis

    app = bench_app(QUEUE_BACKEND="rq", REDIS_URL=REDIS)
    Redis.from_url(REDIS).flushdb()
    with app.app_context():
        ids = db.session.scalars(
            select(ClientFile.id)
            .join(FiscalYear, FiscalYear.client_file_id == ClientFile.id)
            .where(ClientFile.import_batch_id.is_not(None), FiscalYear.starts_on == date(2024, 1, 1))
            .order_by(ClientFile.id)
            .limit(TREES)
        ).all()
        chosen = set(ids)
        # The import queued a tree per file: keep those of the first 1,000, with two more fiscal years.
        db.session.execute(delete(OutboxJob).where(OutboxJob.job == "build_tree"))
        for file_id in ids:
            for year in (2025, 2026):
                start = date(year, 1, 1)
                db.session.add(FiscalYear(client_file_id=file_id, starts_on=start, ends_on=date(year, 12, 31)))
            outbox.enqueue("build_tree", client_file_id=file_id)
        db.session.commit()  # pushed to Redis after commit
        assert len(chosen) == TREES
    session = logged_in(ours_base, "cabinet@vigie.test")
    idle = rate(ours_base + "/firm/clients?page=2", lambda: session)
    started = time.perf_counter()
    busy_rates = []
    done = threading.Event()

    def measure():
        while not done.is_set():
            busy_rates.append(rate(ours_base + "/firm/clients?page=2", lambda: session))

    with rq_workers(app, REDIS):
        meter = threading.Thread(target=measure, daemon=True)
        meter.start()
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with app.app_context():
                ready = db.session.scalar(
                    select(func.count()).where(ClientFile.id.in_(ids), ClientFile.tree_status == "ready")
                )
                db.session.remove()
            if ready == TREES:
                break
            time.sleep(1)
        elapsed = time.perf_counter() - started
        done.set()
        meter.join(timeout=60)
        with app.app_context():
            folders = db.session.scalar(select(func.count()).where(Folder.client_file_id.in_(ids)))
        busy = sorted(busy_rates)[len(busy_rates) // 2] if busy_rates else 0
        print(
            f"{ready} trees ({folders} folders, 3 fiscal years each) built by 2 workers in {elapsed:.0f} s; "
            f"client list meanwhile {busy:.0f} req/s vs {idle:.0f} req/s idle "
            f"({busy / idle:.0%}: the web is not blocked)"
        )


def main() -> None:
    app = empty_database()
    with app.app_context():
        seed_demo(with_documents=False, with_firm=True)
        assert db.session.scalar(select(Organisation.id).where(Organisation.siren == FIRM_SIREN))
    firm_id, _batch = bench_import(bench_app())
    ours, ours_base = bench_list(firm_id)
    try:
        bench_trees(firm_id, ours_base)
    finally:
        ours.terminate()
        ours.wait(timeout=20)


if __name__ == "__main__":
    main()
