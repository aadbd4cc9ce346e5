"""Browser fixtures: a live server on SQLite with the in-process queue, Debian's Chromium, axe-core.

Chromium missing: skipped locally, failed under VIGIE_REQUIRE_BROWSER=1 (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.core.extensions import db
from portal.demo.seed import seed_demo
from tests.support.services import base_config

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "tests" / ".cache"
AXE_VERSION = "4.14.1"
CHROMIUM = os.environ.get("VIGIE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = (
    ROOT / "static" / "img" / "screenshots"
    if os.environ.get("VIGIE_UPDATE_SCREENSHOTS") == "1"
    else CACHE / "screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("VIGIE_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def axe_script() -> Path:
    import fcntl

    path = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    CACHE.mkdir(parents=True, exist_ok=True)
    # Both xdist workers may get here first on a fresh clone: one installs, the other waits.
    with open(CACHE / ".axe.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _install_axe()
    return path


def _install_axe() -> None:
    if True:  # noqa: SIM108 - kept indented as the install was
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to install axe-core for the accessibility checks")
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(CACHE),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(tmp_path):
    app = create_app(
        {
            **base_config(f"sqlite:///{tmp_path / 'live.db'}", str(tmp_path / "instance")),
            "TESTING": False,
            "QUEUE_BACKEND": "inprocess",
        }
    )
    with app.app_context():
        db.create_all()
        seed_demo(with_documents=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    app.extensions["vigie_queue"].stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def batie_contracts(live_server):
    """Batie Construction's employees and contracts in the live server's database."""
    from portal.demo.contracts import seed_batie_contracts

    with live_server[1].app_context():
        seed_batie_contracts()
        db.session.remove()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server[0]
    yield page
    context.close()


class Checks:
    def __init__(self, axe_script: Path):
        self.axe = axe_script.read_text()

    def accessible(self, page) -> None:
        """Fail on any serious or critical axe-core violation on the current page."""
        # Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern.
        page.evaluate(f"() => {{ if (!window.axe) {{ (0, eval)({self.axe!r}); }} }}")
        results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], "accessibility violations on " + page.url + ":\n" + "\n".join(bad)

    def screenshot(self, page, name: str, *, full_page: bool = True) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="session")
def check(axe_script) -> Checks:
    return Checks(axe_script)
