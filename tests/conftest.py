"""Fixtures only: an app per test on SQLite and, when reachable, on PostgreSQL; clients; the demo.

Helpers live in ``tests/support/``. Real services: ``VIGIE_TEST_DATABASE_URL`` and
``VIGIE_TEST_REDIS_URL`` (defaults: the local PostgreSQL and Redis). When they cannot be reached
the tests that need them are skipped, unless ``VIGIE_REQUIRE_SERVICES=1`` (set by .ci/run), in
which case they fail.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import create_app
from portal.core.extensions import db
from tests.support.data import seed_world
from tests.support.http import AuthActions
from tests.support.services import PG_URL, REDIS_URL, base_config, ensure_pg_database, missing


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = ensure_pg_database(PG_URL)
    if problem:
        missing("PostgreSQL", problem)
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except RedisError as exc:
        missing("Redis", str(exc))
    return REDIS_URL


@pytest.fixture(scope="session")
def pg_schema(postgres_url):
    """Create the schema once per session on PostgreSQL (tests truncate between them)."""
    app = create_app(base_config(postgres_url, "/tmp/vigie-pg-instance"))
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        db.engine.dispose()
    return postgres_url


DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_schema")


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database; extra settings override the defaults."""
    apps = []

    def factory(**overrides):
        app = create_app({**base_config(database_url, str(tmp_path / "instance")), **overrides})
        with app.app_context():
            if database_url.startswith("sqlite"):
                db.create_all()
            elif not apps:
                tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                db.session.commit()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["vigie_queue"].stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The demo accounts and companies (no documents); ids by handy names."""
    return seed_world(app, with_documents=False)


@pytest.fixture
def demo_file(app):
    """The whole demo world, Menuiserie Martin's compliance file included."""
    return seed_world(app, with_documents=True)


@pytest.fixture
def batie(app, demo):
    """The demo world with Batie Construction's 604 employees and their contracts."""
    from portal.demo.contracts import seed_batie_contracts
    from portal.models import ContractTypology

    with app.app_context():
        seed_batie_contracts()
        typologies = {t.code: t.id for t in db.session.scalars(db.select(ContractTypology))}
    return {**demo, "typologies": typologies}


@pytest.fixture
def auth(client) -> AuthActions:
    """``auth.login("fournisseur@vigie.test")`` logs the test's client in."""
    return AuthActions(client)


@pytest.fixture(scope="session")
def object_store(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the session, with one bucket; each test takes its own prefix."""
    from tests.support import object_store as store

    server = store.start(tmp_path_factory.mktemp("seaweedfs"))
    server.bucket("vigie-test")
    yield server
    server.stop()


@pytest.fixture
def s3_settings(object_store, monkeypatch, request) -> dict:
    """Settings that put the app's files under a fresh prefix of the test S3 server's bucket."""
    import secrets

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "vigie")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "vigie")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return {"STORAGE_URL": f"s3://vigie-test/{secrets.token_hex(6)}", "S3_ENDPOINT_URL": object_store.endpoint}
