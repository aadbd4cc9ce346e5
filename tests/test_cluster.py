"""Vigie as a small cluster on this machine: PostgreSQL, Redis, SeaweedFS (S3), two gunicorn web nodes
with their own instance folders (no shared disk) and two ``worker.py`` processes.

Users move from node to node in one journey. Anything kept on a node's disk or in a process's
memory (files, sessions, rate limits, drafts, progress) breaks it.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from portal.core import clock
from portal.demo import samples
from tests.support.services import free_port, fresh_pg_database, missing

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.slow]
MARTIN = "812345676"


def _wait_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def _started(stack: ExitStack, command: list[str], env: dict, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def stop():
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    return process


def _token(session: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', session.get(url).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _login(node: str, email: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{node}/login", data={"email": email, "password": "vigie-demo", "csrf_token": _token(session, f"{node}/login")}
    )
    assert answer.status_code == 200 and 'action="/logout"' in answer.text, answer.text[-2000:]
    return session


def _post(session: requests.Session, node: str, path: str, data: dict | None = None, **kwargs) -> requests.Response:
    return session.post(
        f"{node}{path}",
        data={"csrf_token": _token(session, f"{node}/"), **(data or {})},
        allow_redirects=False,
        **kwargs,
    )


def _sql(database_url: str, query: str, *args):
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, args).fetchone()


def _until(what, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail("waited in vain")


def test_two_web_nodes_and_two_workers_share_nothing_but_the_services(object_store, tmp_path):
    import shutil

    if shutil.which("redis-server") is None:
        missing("Redis", "the redis-server binary is not installed")
    database_url = fresh_pg_database("cluster")
    redis_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": secrets.token_hex(32),  # shared by every node: a session opened on A works on B
        "STORAGE_URL": f"s3://vigie-test/cluster-{secrets.token_hex(4)}",
        "S3_ENDPOINT_URL": object_store.endpoint,
        "AWS_ACCESS_KEY_ID": "vigie",
        "AWS_SECRET_ACCESS_KEY": "vigie",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MAIL_BACKEND": "outbox",
        "SMS_BACKEND": "outbox",
        "VIGIE_ENV": "development",
        "WEB_CONCURRENCY": "2",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    setup = {**env, "VIGIE_INSTANCE_PATH": str(tmp_path / "setup")}
    for step in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(flask + step, cwd=ROOT, env=setup, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    with ExitStack() as stack:
        redis = _started(
            stack,
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env,
            tmp_path / "redis.log",
        )
        nodes = {}
        for name in ("a", "b"):
            port = free_port()
            node_env = {**env, "BIND": f"127.0.0.1:{port}", "VIGIE_INSTANCE_PATH": str(tmp_path / f"node-{name}")}
            log = tmp_path / f"node-{name}.log"
            process = _started(
                stack,
                [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"],
                node_env,
                log,
            )
            nodes[name] = (f"http://127.0.0.1:{port}", process, log)
        for name in ("1", "2"):
            worker_env = {**env, "VIGIE_INSTANCE_PATH": str(tmp_path / f"worker-{name}")}
            _started(stack, [sys.executable, "worker.py"], worker_env, tmp_path / f"worker-{name}.log")
        for url, process, log in nodes.values():
            _wait_http(f"{url}/login", process, log)
        a, b = nodes["a"][0], nodes["b"][0]
        assert redis.poll() is None

        # The supplier accepts Constructor's request and uploads an URSSAF attestation through node A.
        supplier = _login(a, "fournisseur@vigie.test")
        (partnership_id,) = _sql(
            database_url,
            "SELECT p.id FROM partnership p JOIN organisation o ON o.id = p.target_id "
            "WHERE o.siren = %s AND p.status = 'pending' ORDER BY p.id LIMIT 1",
            MARTIN,
        )
        assert _post(supplier, a, f"/partners/requests/{partnership_id}/accept").status_code == 303
        certified = clock.today() - timedelta(days=2)
        data = samples.one("URSSAF_VIGILANCE", MARTIN, "Menuiserie Martin", certified)
        token = _token(supplier, f"{a}/documents/URSSAF_VIGILANCE/update")
        sent = supplier.post(
            f"{a}/documents/URSSAF_VIGILANCE/update",
            # Martin's Attestation Légale sync provides this type once a worker has run it (the seed's
            # or the hourly one, whichever comes first): the supplier ticks "J'ai compris", as asked.
            data={
                "csrf_token": token,
                "issued_on": certified.isoformat(),
                "verification_code": "ABCDEFGH12345XY",
                "confirm_sync": "y",
            },
            files={"file": ("attestation.pdf", data, "application/pdf")},
            allow_redirects=False,
        )
        assert sent.status_code == 303, sent.text[-2000:]
        (version_id,) = _sql(database_url, "SELECT max(id) FROM document_version WHERE status = 'submitted'")

        # The operator reviews it on node B (pages drawn from the object store) and validates it there.
        operator = _login(b, "operateur@vigie.test")
        review = operator.get(f"{b}/operations/review/{version_id}")
        assert review.status_code == 200 and "Menuiserie Martin" in review.text
        image = operator.get(f"{b}/operations/review/{version_id}/pages/0.png")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        mails = "SELECT count(*) FROM message WHERE status = 'sent' AND channel = 'email' AND recipient = %s"
        before = _sql(database_url, mails, "fournisseur@vigie.test")[0]
        validated = _post(operator, b, f"/operations/review/{version_id}/validate", {"valid_until": ""})
        assert validated.status_code == 303
        assert _sql(database_url, "SELECT status FROM document_version WHERE id = %s", version_id)[0] in (
            "valid",
            "expiring",
        )

        # The supplier, with the session opened on node A, downloads the file and a quitus from node B.
        download = supplier.get(f"{b}/documents/versions/{version_id}/download")
        assert download.status_code == 200 and download.content == data
        quitus = _post(supplier, b, "/documents/quitus")
        assert quitus.status_code == 303
        location = quitus.headers["Location"]
        pdf = supplier.get(b + location if location.startswith("/") else location)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        # The client reads the document from node A.
        client = _login(a, "constructor@vigie.test")
        (martin,) = _sql(database_url, "SELECT id FROM organisation WHERE siren = %s", MARTIN)
        read = client.get(f"{a}/partners/companies/{martin}/versions/{version_id}/download")
        assert read.status_code == 200 and read.content == data

        # The email telling the supplier of the validation, queued on node B, is sent by a worker.
        _until(lambda: _sql(database_url, mails, "fournisseur@vigie.test")[0] > before)

        # An agency opens a reminder campaign by email on node A, confirms it on node B; the
        # workers deliver it and the progress read from node A says it is over.
        agency = _login(a, "agence@vigie.test")
        (employment,) = _sql(
            database_url,
            "SELECT id FROM contract_typology WHERE code = 'employment' ORDER BY id LIMIT 1",
        )
        opened = _post(agency, a, "/contracts/reminders", {"channel": "email", "typology": employment})
        assert opened.status_code == 303, opened.text[-2000:]
        (campaign,) = _sql(database_url, "SELECT max(id) FROM reminder_campaign")
        assert _post(agency, b, f"/contracts/reminders/{campaign}/confirm").status_code == 303
        (recipients,) = _sql(database_url, "SELECT count(*) FROM reminder_recipient WHERE campaign_id = %s", campaign)
        assert recipients > 100
        _until(lambda: "Relance terminée" in agency.get(f"{a}/contracts/reminders/{campaign}/progress").text, 120)
        delivered = _sql(
            database_url,
            "SELECT count(*), count(DISTINCT m.id) FROM reminder_recipient r JOIN message m ON m.id = r.message_id "
            "WHERE r.campaign_id = %s AND m.status = 'sent'",
            campaign,
        )
        assert delivered == (recipients, recipients)  # each recipient once, by one of the two workers

        for name in ("a", "b"):
            assert not (tmp_path / f"node-{name}" / "uploads").exists()  # no node wrote a file on its disk
        assert not (tmp_path / "worker-1" / "uploads").exists() and not (tmp_path / "worker-2" / "uploads").exists()
