"""Fixtures for the automation tests: sessions, a stepping clock, tenants and the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.automations import AutomationService
from hub.secret_value import SecretValue
from tests.clock import FakeClock

TABLES = ("event_types", "actions", "automations", "secret_references")


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(step=timedelta(seconds=1))


@pytest.fixture
def make_tenant(sessions: sessionmaker[Session], clock: FakeClock
                ) -> Callable[..., str]:
    """Create a tenant (optionally under an umbrella) the way the hub does; returns its id."""
    from hub.tenants import TenantService, tenant_id_of

    tenants = TenantService(sessions, clock=clock)

    def make(name: str, umbrella: str | None = None) -> str:
        tenants.create(name, umbrella=umbrella, actor="test")
        with db.transaction(sessions) as session:
            return tenant_id_of(session, name)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., str]) -> str:
    make_tenant("acme")
    return "acme"


@pytest.fixture
def service(sessions: sessionmaker[Session], clock: FakeClock) -> AutomationService:
    return AutomationService(sessions, clock=clock)


@pytest.fixture
def dump(engine: Engine) -> Callable[[], dict[str, list[tuple[object, ...]]]]:
    """Every row of the automation tables (and the audit log), to compare before and after."""

    def take() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as conn:
            tables = (*TABLES, "audit_log")
            return {table: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {table}"))),
                                  key=repr)
                    for table in tables}

    return take


def rows(sessions: sessionmaker[Session], model: type) -> list[object]:
    with db.transaction(sessions) as session:
        return list(session.scalars(select(model)).all())


@pytest.fixture
def make_secret(sessions: sessionmaker[Session], clock: FakeClock) -> Callable[..., None]:
    """Store a secret `key` in tenant `tenant` through the real store (value irrelevant)."""
    from hub.config import Settings
    from hub.crypto import KeyRing
    from hub.secrets.store import SecretStore

    store = SecretStore(sessions, KeyRing([KeyRing.generate()]), Settings(), clock=clock)

    def make(tenant: str, key: str) -> None:
        store.create(tenant, key, SecretValue("irrelevant-value-123"), actor="test")

    return make
