"""The newcomer's path: `make run` on a free port with an empty instance folder, then Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "VIGIE_ENV"}}
    env.update({"PORT": str(port), "VIGIE_INSTANCE_PATH": str(tmp_path / "instance")})
    log = (tmp_path / "make-run.log").open("w+")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, _tail(log)
            time.sleep(0.5)
        else:
            pytest.fail("make run did not answer in time:\n" + _tail(log))
        assert (tmp_path / "instance" / "vigie.db").exists()
        browser = requests.Session()
        login_page = browser.get(base + "/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        response = browser.post(
            base + "/login",
            data={"email": "constructor@vigie.test", "password": "vigie-demo", "csrf_token": token},
            allow_redirects=True,
        )
        assert response.status_code == 200
        assert "Bonjour Claire" in response.text and "Constructor SA" in response.text
        output = _tail(log)
        assert f"http://127.0.0.1:{port}" in output
        assert "fournisseur@vigie.test" in output and "vigie-demo" in output
        # A real server (gunicorn, threads, one process), not Werkzeug's development server.
        assert "Listening at: http://127.0.0.1:" in output and "gthread" in output
        assert "development server" not in output
        assert '"GET /login HTTP/1.1" 200' in output  # access log
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("Ctrl-C did not stop make run within 15 s")


def _tail(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-3000:]
