"""The test databases and Redis: their URLs (one of each per xdist worker) and the app settings."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

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


def missing(service: str, problem: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required (VIGIE_REQUIRE_SERVICES=1) but unreachable: {problem}", pytrace=False)
    pytest.skip(f"{service} unreachable: {problem}")


def fresh_pg_database(suffix: str) -> str:
    """A database of its own next to the test one (dropped and created): ``<test database>_<suffix>``."""
    import psycopg

    parts = urlsplit(PG_URL)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    admin = parts._replace(path="/postgres").geturl()
    problem = ensure_pg_database(admin)
    if problem:
        missing("PostgreSQL", problem)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def ensure_pg_database(url: str) -> str | None:
    """Create the database of ``url`` if needed; the problem as text when PostgreSQL is unreachable."""
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


def base_config(database_url: str, instance_path: str) -> dict:
    """The settings of a test app: the manual queue, outboxes for email and SMS, fast hashing."""
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
        # The outbox's delivery reports wait an hour: counts stay put unless a test asks for them.
        "DEV_SMS_REPORT_SECONDS": 3600,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
