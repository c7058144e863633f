"""Fixtures for the sink tests: the real receivers of sink_receivers.py, started once per
module, reset per test; and a fresh SQL table per test on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, service_missing
from tests.sinks.sink_receivers import (
    TABLE_DDL,
    HttpReceiver,
    SmtpReceiver,
    SqlTarget,
    running_http_receiver,
    running_smtp_receiver,
)


@pytest.fixture(scope="module")
def _http_server() -> Iterator[HttpReceiver]:
    with running_http_receiver() as receiver:
        yield receiver


@pytest.fixture
def http_receiver(_http_server: HttpReceiver) -> HttpReceiver:
    _http_server.requests.clear()
    return _http_server


@pytest.fixture(scope="module")
def _smtp_server() -> Iterator[SmtpReceiver]:
    with running_smtp_receiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_receiver(_smtp_server: SmtpReceiver) -> SmtpReceiver:
    _smtp_server.envelopes.clear()
    _smtp_server.logins.clear()
    _smtp_server.fail_data_with = None
    return _smtp_server


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTarget]:
    """A fresh table (dropped after) in a SQLite file or in the test PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'sink.db'}" if request.param == "sqlite" else POSTGRES_URL
    name = f"sink_t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(TABLE_DDL.format(name=name)))
    except Exception as exc:
        engine.dispose()
        service_missing("PostgreSQL", type(exc).__name__)
    try:
        yield SqlTarget(url=url, table=name)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()
