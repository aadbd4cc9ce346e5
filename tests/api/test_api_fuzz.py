"""Schemathesis against a live server: requests generated from the OpenAPI file, valid and invalid,
with a client's and a supplier's keys, on PostgreSQL. No answer may be a 5xx, and every answer
(status, content type, headers, body) must match what the file says."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug.serving import make_server

from portal import create_app
from portal.core.extensions import db
from tests.api.support import CONSTRUCTOR, MARTIN, accept_all_requests_to, bearer, make_key
from tests.support.data import seed_world
from tests.support.services import base_config, free_port, fresh_pg_database

# Every operation in one worker, on its own database (the other tests empty theirs between tests).
pytestmark = pytest.mark.xdist_group("api-fuzz")
EXAMPLES = 25  # per operation: enough to try each parameter's edges, bounded for `make test`


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    url = fresh_pg_database("fuzz")
    instance = tmp_path_factory.mktemp("fuzz-instance")
    app = create_app({**base_config(url, str(instance)), "TESTING": False, "API_RATE_LIMIT": "100000 per minute"})
    with app.app_context():
        db.create_all()
    seed_world(app, with_documents=True)
    accept_all_requests_to(app, MARTIN)
    keys = {"client": make_key(app, CONSTRUCTOR), "supplier": make_key(app, MARTIN)}
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(base=f"http://127.0.0.1:{server.server_port}", keys=keys)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_5xx_and_every_answer_matches_the_openapi_file(live_api, mode):
    """Schemathesis' strategies for each operation, run by Hypothesis (its pytest plugin's lazy
    loader does not run under pytest 9, so the operations are walked here)."""
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{live_api.base}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        key = live_api.keys["supplier" if operation.path.startswith("/api/v1/me/") else "client"]

        # A write's well-formed input may still be refused by a rule the file cannot state (a SIREN's
        # check digit, the catalogue's codes, a file's content): 422 there is right, not a failure.
        excluded = [positive_data_acceptance] if operation.method.upper() != "GET" else []

        @given(case=operation.as_strategy(GenerationMode(mode)))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            case.call_and_validate(base_url=live_api.base, headers=bearer(key), excluded_checks=excluded)

        check()
