"""The integration stack: a real database, a real broker (embedded or Redis), real worker
and dispatcher processes, all torn down after each test whatever happened."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.stack import Stack


@pytest.fixture
def broker_kind(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "embedded"))


@pytest.fixture
def broker_url(broker_kind: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the embedded broker; a Redis URL whose keys carry a prefix of this test's."""
    if broker_kind == "embedded":
        yield None
        return
    base = request.getfixturevalue("redis_url")
    prefix = f"hubtest-{uuid.uuid4().hex[:10]}:"
    yield f"{base}?global_keyprefix={prefix}"
    client = redis.Redis.from_url(base)
    try:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def stack(database_url: str, broker_url: str | None, tmp_path: Path) -> Iterator[Stack]:
    built = Stack.build(tmp_path, database_url=database_url, broker_url=broker_url)
    try:
        yield built
    finally:
        built.close()
