"""Fixtures of the secret store tests: a settable clock, a key ring, tenants and the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.config import Settings
from hub.crypto import KeyRing, MasterKey
from hub.secrets.store import SecretStore
from hub.tenants import TenantService
from tests.clock import FakeClock

STORE_TABLES = ("tenants", "audit_log", "secrets", "secret_versions", "master_key_checks")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(step=timedelta(microseconds=1))


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing([MasterKey("k1", b"\x01" * 32)])


@pytest.fixture
def tenants(sessions: sessionmaker[Session], clock: FakeClock) -> TenantService:
    service = TenantService(sessions, clock=clock)
    service.create("acme", actor="test")
    return service


@pytest.fixture
def make_store(sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,
               clock: FakeClock) -> Callable[..., SecretStore]:
    def make(**overrides: Any) -> SecretStore:
        arguments: dict[str, Any] = {"keyring": keyring, "settings": settings}
        references = overrides.pop("references", None)
        arguments.update(overrides)
        return SecretStore(sessions, arguments["keyring"], arguments["settings"], clock=clock,
                           references=references)

    return make


@pytest.fixture
def store(make_store: Callable[..., SecretStore], tenants: TenantService) -> SecretStore:
    return make_store()


@pytest.fixture
def dump(engine: Engine) -> Callable[[], dict[str, list[tuple[object, ...]]]]:
    """Every row of the store's tables, to show that a refused change changed nothing."""

    def take() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as conn:
            return {table: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {table}"))),
                                  key=repr) for table in STORE_TABLES}

    return take
