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
from portal.core import clock
from portal.core.extensions import db
from portal.demo.seed import seed_demo
from portal.models import Message, OutboxJob, utcnow
from tests.support.http import token_for
from tests.support.services import base_config, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.slow]


def _app(database_url: str, redis_url: str, tmp_path):
    app = create_app(
        {**base_config(database_url, str(tmp_path / "instance")), "QUEUE_BACKEND": "rq", "REDIS_URL": redis_url}
    )
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        seed_demo()
    return app


def _redis_server(port: int) -> subprocess.Popen:
    """A throw-away Redis, started late to play "Redis was down and came back"."""
    return subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )


def _start_worker(database_url: str, redis_url: str, tmp_path, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "VIGIE_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "MAIL_BACKEND": "outbox",
        "SMS_BACKEND": "outbox",
        "DEV_SMS_REPORT_SECONDS": "3600",
        **settings,
    }
    log = (tmp_path / "worker.log").open("a")
    # Its own process group: killing the group also ends RQ's work horse and scheduler process,
    # which would otherwise outlive a SIGKILLed worker and keep running against the test services.
    return subprocess.Popen(
        [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    import signal

    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    except ProcessLookupError:
        pass


def _wait_for_sent(app, timeout: float = 40, template: str | None = None) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            query = select(Message).where(Message.template == template) if template else select(Message)
            message = db.session.scalar(query)
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


def _wait_until_idle(app, timeout: float = 60) -> None:
    """Until every job the worker had (ours and the periodic ones its scheduler queued) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            busy = db.session.scalar(select(OutboxJob.id).where(OutboxJob.status.not_in(("done", "failed"))).limit(1))
            db.session.remove()
        if busy is None:
            time.sleep(1)  # the worker is back in its loop, waiting for work
            return
        time.sleep(0.2)
    pytest.fail("the worker still had jobs running")


def test_real_worker_delivers_an_email_queued_by_the_web_app(pg_schema, redis_url, tmp_path):
    app = _app(pg_schema, redis_url, tmp_path)
    _ask_for_reset(app)
    with app.app_context():
        row = db.session.scalar(select(OutboxJob))
        assert row.pushed_at is not None  # went to Redis right after commit
        row_id = row.id
    worker = _start_worker(pg_schema, redis_url, tmp_path)
    try:
        message = _wait_for_sent(app)
        # An idle worker asked to stop (systemd, compose, a deploy) leaves at once, exit code 0:
        # it does not start a fresh work loop and wait for SIGKILL.
        _wait_until_idle(app)
        worker.terminate()
        assert worker.wait(timeout=10) == 0
    finally:
        _stop(worker)
    assert message.attempts == 1
    with app.app_context():
        # The worker's clock may queue periodic jobs of its own (the hourly platform sync): look at ours.
        assert db.session.get(OutboxJob, row_id).status == "done"


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
        row_id = row.id
        # A minute goes by while Redis is down.
        db.session.execute(db.update(OutboxJob).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    redis = _redis_server(port)
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
        assert db.session.get(OutboxJob, row_id).status == "done"


def _confirm_campaign(app, monkeypatch) -> int:
    """Batie Construction's SMS reminder to its 602 reachable employees, confirmed in the hours."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.contracts import campaigns, manage, reminder_wizard
    from portal.core import clock, tenancy
    from portal.demo.contracts import seed_batie_contracts
    from portal.models import Organisation, ReminderCampaign, User

    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Paris")))
    with app.test_request_context():
        seed_batie_contracts()
        user = db.session.scalar(select(User).where(User.email == "agence@vigie.test"))
        batie = db.session.scalar(select(Organisation).where(Organisation.siren == "790456123"))
        membership = next(m for m in tenancy.memberships_of(user.id) if m.organisation_id == batie.id)
        current = tenancy.Tenancy(membership=membership, memberships=[membership])
        employment = next(t.id for t in manage.typologies(batie.id) if t.code == "employment")
        filters = manage.filters_from({"typology": str(employment)})
        campaign = reminder_wizard.start(current, user, "sms", filters, [], [])
        campaigns.confirm(current, user, campaign.id)
        assert db.session.get(ReminderCampaign, campaign.id).recipients_count == 602
        return campaign.id


def _reminder_states(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Message.status, db.func.count())
            .where(Message.template == "contract_reminder")
            .group_by(Message.status)
        ).all()
        db.session.remove()
    return dict(rows)


def _wait_for_messages(app, count: int, timeout: float = 90) -> None:
    """Until ``count`` reminders have an outcome: sent, or "issue inconnue" (a killed worker's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = _reminder_states(app)
        if states.get("sent", 0) + states.get("unknown", 0) >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"only {states} of {count} reminders settled in time")


def _assert_exactly_once(app, campaign_id: int, *, unknown_at_most: int = 0) -> None:
    """Every employee got the SMS exactly once, or it is visibly "issue inconnue"; none stuck."""
    from portal.models import ReminderRecipient

    with app.app_context():
        messages = db.session.scalars(select(Message).where(Message.template == "contract_reminder")).all()
        assert len(messages) == 602 and len({m.recipient for m in messages}) == 602
        assert all(m.attempts == 1 for m in messages)  # nothing went to the gateway twice
        states = {m.status for m in messages}
        assert states <= {"sent", "unknown"}, states
        assert sum(m.status == "unknown" for m in messages) <= unknown_at_most
        linked = db.session.scalars(
            select(ReminderRecipient.message_id).where(ReminderRecipient.campaign_id == campaign_id)
        ).all()
        assert len(linked) == 602 and None not in linked and len(set(linked)) == 602


# A short lease so the test waits seconds, not the production minute; nothing is faked.
QUICK_LEASE = {"OUTBOX_LEASE": "6", "OUTBOX_HEARTBEAT": "1"}


def test_a_worker_killed_mid_campaign_sends_no_sms_twice_and_loses_none(pg_schema, redis_url, tmp_path, monkeypatch):
    import signal

    app = _app(pg_schema, redis_url, tmp_path)
    campaign_id = _confirm_campaign(app, monkeypatch)
    worker = _start_worker(pg_schema, redis_url, tmp_path, **QUICK_LEASE)
    try:
        _wait_for_messages(app, 1)
        os.killpg(worker.pid, signal.SIGKILL)  # killed in the middle of the fan-out or of deliveries
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            _stop(worker)
    with app.app_context():
        held = db.session.scalars(select(OutboxJob.id).where(OutboxJob.status == "running")).all()
    worker = _start_worker(pg_schema, redis_url, tmp_path, **QUICK_LEASE)
    taken_over = time.monotonic()
    try:
        _wait_for_messages(app, 602)
        settled = time.monotonic() - taken_over
    finally:
        _stop(worker)
    # What the dead worker held was taken over once its lease ran out (seconds, not 15 minutes).
    assert settled < 40
    with app.app_context():
        assert {db.session.get(OutboxJob, i).status for i in held} <= {"done"}
    # One message at most was between the gateway's call and the recording of its answer.
    _assert_exactly_once(app, campaign_id, unknown_at_most=1)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")
def test_workers_survive_a_redis_outage_and_resume_on_their_own(pg_schema, tmp_path, monkeypatch):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis = _redis_server(port)
    time.sleep(0.5)
    app = _app(pg_schema, url, tmp_path)
    campaign_id = _confirm_campaign(app, monkeypatch)
    worker = _start_worker(pg_schema, url, tmp_path)
    pid = worker.pid
    try:
        _wait_for_messages(app, 1)
        redis.kill()  # Redis dies in the middle of the campaign's jobs
        redis.wait(timeout=10)
        _ask_for_reset(app)  # enqueued during the outage: the user still gets his answer
        time.sleep(8)  # the running job ends while Redis is down
        assert worker.poll() is None, "the worker quit during the outage"
        redis = _redis_server(port)  # Redis comes back, empty
        back = time.monotonic()
        message = _wait_for_sent(app, timeout=60, template="password_reset")
        assert time.monotonic() - back < 60
        _wait_for_messages(app, 602)
        assert worker.poll() is None and worker.pid == pid  # the same process, never restarted
    finally:
        _stop(worker)
        redis.terminate()
        redis.wait(timeout=10)
    assert message.attempts == 1
    _assert_exactly_once(app, campaign_id)
    log = (tmp_path / "worker.log").read_text()
    assert log.count("Redis unreachable") == 1  # logged once for the outage


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")
def test_a_campaign_confirmed_while_redis_is_down_is_sent_once_when_it_is_back(
    pg_schema, redis_url, tmp_path, monkeypatch
):
    port = free_port()
    down_url = f"redis://127.0.0.1:{port}/0"
    app = _app(pg_schema, down_url, tmp_path)
    campaign_id = _confirm_campaign(app, monkeypatch)  # Redis is down: the agency still gets its answer
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).where(OutboxJob.pushed_at.is_not(None))) == 0
        db.session.execute(db.update(OutboxJob).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    redis = _redis_server(port)
    worker = None
    try:
        time.sleep(0.5)
        worker = _start_worker(pg_schema, down_url, tmp_path)
        _wait_for_messages(app, 602)
    finally:
        if worker:
            _stop(worker)
        redis.terminate()
        redis.wait(timeout=10)
    _assert_exactly_once(app, campaign_id)


def test_a_bulk_import_cut_by_a_killed_worker_resumes_without_duplicates(pg_schema, redis_url, tmp_path):
    """60 client files imported by chunks of 20 by a real worker SIGKILLed in the first chunk, then
    by a new one: each file once, each tree built."""
    import signal

    from stdnum import luhn

    from portal.core import tenancy
    from portal.demo.firm import FIRM_SIREN
    from portal.firm import imports
    from portal.models import ClientFile, ImportBatch, Organisation, User

    app = _app(pg_schema, redis_url, tmp_path)
    rows = ["siret;raison_sociale;debut_exercice"]
    for n in range(60):
        siren = f"9{n:07d}"
        siren += luhn.calc_check_digit(siren)
        head = siren + "0001"
        rows.append(f"{head}{luhn.calc_check_digit(head)};Client {n:03d};01/01/2026")
    with app.test_request_context():
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
        user = db.session.scalar(select(User).where(User.email == "cabinet@vigie.test"))
        firm_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == FIRM_SIREN))
        membership = next(m for m in tenancy.memberships_of(user.id) if m.organisation_id == firm_id)
        current = tenancy.Tenancy(membership=membership, memberships=[membership])
        batch = imports.preview(current, user, "clients.csv", ("\n".join(rows) + "\n").encode())
        imports.confirm(current, user, batch.id)
    worker = _start_worker(pg_schema, redis_url, tmp_path, IMPORT_CHUNK="20", **QUICK_LEASE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                created = db.session.get(ImportBatch, batch.id).created
                db.session.remove()
            if created >= 1:
                break
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            _stop(worker)
    worker = _start_worker(pg_schema, redis_url, tmp_path, IMPORT_CHUNK="20", **QUICK_LEASE)
    try:
        # A wait, not a budget: 60 trees take about 20 s here, more on a loaded shared machine.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with app.app_context():
                done = db.session.get(ImportBatch, batch.id).status == "done"
                ready = db.session.scalar(
                    select(db.func.count()).where(
                        ClientFile.import_batch_id == batch.id, ClientFile.tree_status == "ready"
                    )
                )
                db.session.remove()
            if done and ready == 60:
                break
            time.sleep(0.5)
    finally:
        _stop(worker)
    with app.app_context():
        assert db.session.get(ImportBatch, batch.id).created == 60
        assert db.session.scalar(select(db.func.count()).where(ClientFile.firm_id == firm_id)) == 60
        assert ready == 60


def test_reactivating_a_platform_sync_runs_it_on_a_real_worker(pg_schema, redis_url, tmp_path):
    """Menuiserie Martin switches its Attestation Légale sync back on: the job goes through Redis to a
    real worker, which files the newer URSSAF attestation and archives Vigie's, exactly once."""
    from portal.core import tenancy
    from portal.demo import platforms as demo_platforms
    from portal.models import Document, DocumentType, DocumentVersion, Organisation, PlatformConnection, User
    from portal.platforms import connections

    app = _app(pg_schema, redis_url, tmp_path)
    with app.test_request_context():
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == "812345676"))
        db.session.add(
            PlatformConnection(
                organisation_id=martin.id, platform="attestation_legale", account_ref=martin.siren, enabled=False
            )
        )
        db.session.commit()
        user = db.session.scalar(select(User).where(User.email == "fournisseur@vigie.test"))
        membership = next(m for m in tenancy.memberships_of(user.id) if m.organisation_id == martin.id)
        current = tenancy.Tenancy(membership=membership, memberships=[membership])
        connections.reactivate(current, user, martin.id, "attestation_legale")
        connections.reactivate(current, user, martin.id, "attestation_legale")  # a double click queues nothing more
        # What the seed does for `make run`: the simulated platforms, saved where the worker reads them.
        demo_platforms.demo_state(clock.today()).save(tmp_path / "worker-instance" / "platform-simulator")
    worker = _start_worker(pg_schema, redis_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                statuses = db.session.execute(
                    select(DocumentVersion.status, DocumentVersion.external_id)
                    .join(Document, Document.id == DocumentVersion.document_id)
                    .join(DocumentType, DocumentType.id == Document.document_type_id)
                    .where(DocumentVersion.organisation_id == martin.id, DocumentType.code == "URSSAF_VIGILANCE")
                    .order_by(DocumentVersion.id)
                ).all()
                db.session.remove()
            if len(statuses) == 2:
                break
            time.sleep(0.3)
    finally:
        _stop(worker)
    assert [tuple(row) for row in statuses] == [("archived", None), ("valid", "AL-URSSAF-2026-118")]
    with app.app_context():
        # The worker's clock may also have run the hourly slot: filed once all the same (above).
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.job == "sync_platform")).all()
        assert [j.args["trigger"] for j in jobs].count("reactivation") == 1
