"""Fixtures: an app per test on SQLite and, when reachable, on PostgreSQL; clients; helpers.

Real services: ``VIGIE_TEST_DATABASE_URL`` and ``VIGIE_TEST_REDIS_URL`` (defaults: the local
PostgreSQL and Redis). When they cannot be reached the tests that need them are skipped, unless
``VIGIE_REQUIRE_SERVICES=1`` (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import re
import socket
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, text
from stdnum import luhn

from portal import create_app
from portal.core.extensions import db

REQUIRE_SERVICES = os.environ.get("VIGIE_REQUIRE_SERVICES") == "1"
# `make test` runs the suite in parallel (pytest-xdist): each worker gets its own database and
# Redis database (gw0: vigie_test and db 15, gw1: vigie_test_gw1 and db 14, ...).
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _for_worker(url: str, database_suffix: bool) -> str:
    if not WORKER:
        return url
    parts = urlsplit(url)
    if database_suffix:
        return parts._replace(path=f"{parts.path}_gw{WORKER}").geturl()
    return parts._replace(path=f"/{(int(parts.path.lstrip('/') or 0) - WORKER) % 16}").geturl()  # Redis has 16


PG_URL = _for_worker(
    os.environ.get("VIGIE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vigie_test"), database_suffix=True
)
REDIS_URL = _for_worker(os.environ.get("VIGIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), database_suffix=False)
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
DEMO_PASSWORD = "vigie-demo"


def _missing(service: str, problem: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required (VIGIE_REQUIRE_SERVICES=1) but unreachable: {problem}", pytrace=False)
    pytest.skip(f"{service} unreachable: {problem}")


def _ensure_pg_database(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _ensure_pg_database(PG_URL)
    if problem:
        _missing("PostgreSQL", problem)
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except RedisError as exc:
        _missing("Redis", str(exc))
    return REDIS_URL


@pytest.fixture(scope="session")
def pg_schema(postgres_url):
    """Create the schema once per session on PostgreSQL (tests truncate between them)."""
    app = create_app(_base_config(postgres_url, "/tmp/vigie-pg-instance"))
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        db.engine.dispose()
    return postgres_url


def _base_config(database_url: str, instance_path: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": instance_path,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
        "QUEUE_BACKEND": "manual",
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_BACKEND": "outbox",
        "SMS_BACKEND": "outbox",
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


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
        app = create_app({**_base_config(database_url, str(tmp_path / "instance")), **overrides})
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


def _seed(app, with_documents: bool) -> dict:
    from portal.demo.seed import seed_demo
    from portal.models import Organisation, User

    with app.app_context():
        seed_demo(with_documents=with_documents)
        orgs = {o.legal_name: o.id for o in db.session.scalars(db.select(Organisation))}
        users = {u.email: u.id for u in db.session.scalars(db.select(User))}
    return {"orgs": orgs, "users": users}


@pytest.fixture
def demo(app):
    """The demo accounts and companies (no documents); ids by handy names."""
    return _seed(app, with_documents=False)


@pytest.fixture
def demo_file(app):
    """The whole demo world, Menuiserie Martin's compliance file included."""
    return _seed(app, with_documents=True)


@pytest.fixture
def batie(app, demo):
    """The demo world with Batie Construction's 604 employees and their contracts."""
    from portal.demo.contracts import seed_batie_contracts
    from portal.models import ContractTypology

    with app.app_context():
        seed_batie_contracts()
        typologies = {t.code: t.id for t in db.session.scalars(db.select(ContractTypology))}
    return {**demo, "typologies": typologies}


def other_company(app, email: str, seed: int, legal_name: str = "Intérim Rival", **flags) -> int:
    """Another company (flags such as ``is_agency=True``) and its owner; returns its id."""
    from portal.models import Membership, Organisation, User

    with app.app_context():
        organisation = Organisation(siren=valid_siren(seed), legal_name=legal_name, **flags)
        user = User(email=email, first_name="Rita", last_name="Rival")
        user.set_password(DEMO_PASSWORD)
        db.session.add_all([organisation, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role="owner"))
        db.session.commit()
        return organisation.id


def csrf_from(html: bytes | str) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


def token_for(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).data)


def login(client, email: str, password: str = DEMO_PASSWORD, **extra):
    token = token_for(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **extra)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token of the page."""
    return client.post(path, data={"csrf_token": token_for(client, "/"), **(data or {})}, **kwargs)


def valid_siren(seed: int) -> str:
    base = f"{seed:08d}"
    return base + luhn.calc_check_digit(base)


def drain(app) -> list[str]:
    return app.extensions["vigie_queue"].drain()


@contextmanager
def count_queries(app):
    """Count SQL statements run while the block executes."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
