"""``make bench``, temp agencies: "Gérer les contrats" with 10,000 contracts beside a bare Flask + Jinja
page of the same 50 rows (requests/s, one interleaved run), then a 10,000-recipient SMS campaign:
summary and confirmation time, and delivery rate to a local fake SMS provider with 2 real workers.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from portal.contracts.manage import signature_deadline
from portal.core import clock
from portal.core.extensions import db
from portal.demo.seed import seed_demo
from portal.models import Contract, ContractTypology, Employee, Message, Organisation, User, utcnow
from tests.bench.dashboard import (
    analyze,
    bench_app,
    compare,
    empty_database,
    logged_in,
    rq_workers,
    serve,
    server_env,
)
from tests.fakes.brevo import API_KEY, FakeBrevo

REDIS = os.environ.get("VIGIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CONTRACTS = 10_000


def seed() -> tuple[int, int]:
    app = empty_database()
    with app.app_context():
        seed_demo(with_documents=False)
        agency = db.session.scalar(select(Organisation).where(Organisation.siren == "790456123"))
        agency.reminders_enabled = True
        client_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == "521087437"))
        employment = db.session.scalar(select(ContractTypology.id).where(ContractTypology.code == "employment"))
        db.session.execute(
            insert(Employee),
            [
                {
                    "agency_id": agency.id,
                    "first_name": f"Prénom{i}",
                    "last_name": f"Nom{i:05d}",
                    "email": f"salarie{i}@interim.test",
                    "mobile_phone": f"+3367{i:07d}",
                    "external_id": f"B-{i}",
                    "created_at": utcnow(),
                }
                for i in range(CONTRACTS)
            ],
        )
        employees = db.session.scalars(select(Employee.id).where(Employee.agency_id == agency.id)).all()
        start = clock.today()
        db.session.execute(
            insert(Contract),
            [
                {
                    "agency_id": agency.id,
                    "employee_id": employee,
                    "client_id": client_id,
                    "typology_id": employment,
                    "reference": f"B-{n:05d}",
                    "mission_start": start,
                    "signature_deadline": signature_deadline(start),
                    "status": "awaiting_signature",
                    "created_at": utcnow(),
                }
                for n, employee in enumerate(employees)
            ],
        )
        db.session.commit()
        analyze()
        db.engine.dispose()
        return agency.id, employment


def bench_page(agency_id: int, employment: int) -> None:
    env = server_env(BENCH_AGENCY_ID=agency_id, BENCH_CLIENT_ID=0)
    ours, ours_base = serve("wsgi:app", env)
    bare, bare_base = serve("tests.bench.bare_app:app", env)
    try:
        path = f"/contracts?typology={employment}&page=2"
        session = logged_in(ours_base, "agence@vigie.test")
        page = session.get(ours_base + path).text
        assert page.count('<tr id="contract-') == 50 and "Page 2 sur 200" in page, "unexpected contracts page"
        compare(
            "contracts page",
            ours_base + path,
            bare_base + "/contracts",
            lambda: logged_in(ours_base, "agence@vigie.test"),
        )
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=20)


def bench_campaign(employment: int) -> None:
    from portal.contracts import campaigns, manage, reminder_wizard
    from portal.core import tenancy

    seeded_on = clock.today()  # the contracts are this month's
    clock.now = lambda: datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # inside SMS hours
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake provider logs every request
    with FakeBrevo() as fake:
        fake.credits = 1e9  # the fake starts with 1,000 credits, as a small real account would
        app = bench_app(
            QUEUE_BACKEND="rq", REDIS_URL=REDIS, SMS_BACKEND="brevo", SMS_API_URL=fake.url, SMS_API_KEY=API_KEY
        )
        with app.test_request_context():
            from redis import Redis

            Redis.from_url(REDIS).flushdb()
            user = db.session.scalar(select(User).where(User.email == "agence@vigie.test"))
            membership = next(m for m in tenancy.memberships_of(user.id) if m.organisation.is_agency)
            current = tenancy.Tenancy(membership=membership, memberships=[membership])
            started = time.perf_counter()
            campaign = reminder_wizard.start(
                current, user, "sms", manage.filters_from({"typology": str(employment)}, today=seeded_on), [], []
            )
            plan = reminder_wizard.preview(current, campaign)
            summary = time.perf_counter() - started
            confirming = time.perf_counter()
            campaigns.confirm(current, user, campaign.id)
            queued = time.perf_counter() - confirming
            print(
                f"SMS campaign of {len(plan.selection.recipients)} recipients: summary computed in {summary:.2f} s, "
                f"confirmed and queued in {queued:.2f} s (aim < 2 s each)"
            )
        with rq_workers(app, REDIS, SMS_BACKEND="brevo", SMS_API_URL=fake.url, SMS_API_KEY=API_KEY):
            first = last = None
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with app.app_context():
                    sent = db.session.scalar(select(func.count()).select_from(Message).where(Message.status == "sent"))
                    db.session.remove()
                now = time.perf_counter()
                if sent and first is None:
                    first = (now, sent)
                if sent >= CONTRACTS:
                    last = (now, sent)
                    break
                time.sleep(0.2)
            if last is None:
                sys.exit(f"only {sent} of {CONTRACTS} SMS delivered in time")
            rate = (last[1] - first[1]) / max(last[0] - first[0], 1e-6)
            print(
                f"delivered {CONTRACTS} SMS to the local fake provider at {rate:.0f} messages/s, 2 workers (aim ≥ 300)"
            )


def main() -> None:
    agency_id, employment = seed()
    bench_page(agency_id, employment)
    bench_campaign(employment)


if __name__ == "__main__":
    main()
