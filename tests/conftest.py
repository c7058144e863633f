"""Shared fixtures: real databases (SQLite and PostgreSQL), isolated per test.

Each test gets a database of its own, cloned from a migrated template made once per run:
a file copy for SQLite, `CREATE DATABASE ... TEMPLATE` for PostgreSQL. Under `CI=true` a
missing PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub import db

POSTGRES_URL = os.environ.get(
    "HUB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def service_missing(what: str, why: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass silently there."""
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(message + " and CI=true", pytrace=False)
    pytest.skip(message)


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    name = f"hub_tmpl_{uuid.uuid4().hex[:10]}"
    try:
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        service_missing("PostgreSQL", type(exc).__name__)
    engine = db.make_engine(_with_database(POSTGRES_URL, name))
    db.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "hub.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of each backend, dropped after the test."""
    if request.param == "sqlite":
        yield _fresh_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path)
        return
    template = request.getfixturevalue("_postgres_template")
    name = f"hub_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_missing("Redis", type(exc).__name__)
    return REDIS_URL
