"""Tenants and their umbrella chains."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from hub import audit, db
from hub.errors import Conflict, InvalidInput, NotFound
from hub.tenants import MAX_CHAIN, TenantService, tenant_id_of, umbrella_chain
from tests.clock import FakeClock


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def tenants(sessions: sessionmaker[Session]) -> TenantService:
    return TenantService(sessions, clock=FakeClock(step=timedelta(seconds=1)))


@pytest.fixture
def dump(engine: Engine) -> Callable[[], list[tuple[object, ...]]]:
    def take() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            rows = [*conn.execute(text("SELECT * FROM tenants")),
                    *conn.execute(text("SELECT * FROM audit_log"))]
            return sorted(map(tuple, rows), key=repr)

    return take


def test_create_returns_the_tenant_and_audits_it(tenants: TenantService,
                                                 sessions: sessionmaker[Session]) -> None:
    info = tenants.create("acme", actor="admin")
    assert (info.name, info.umbrella) == ("acme", None)
    assert tenants.get("acme") == info == tenants.get_by_id(info.id) == tenants.get(info.id)
    with sessions() as session:
        assert [e.action for e in audit.entries(session, info.id)] == ["tenant.create"]


def test_create_under_an_umbrella_names_it(tenants: TenantService) -> None:
    tenants.create("holding", actor="admin")
    assert tenants.create("shop", umbrella="holding", actor="admin").umbrella == "holding"
    assert [t.name for t in tenants.list()] == ["holding", "shop"]


def test_duplicate_name_is_a_conflict_and_missing_umbrella_not_found(
        tenants: TenantService, dump: Callable) -> None:
    tenants.create("acme", actor="admin")
    before = dump()
    with pytest.raises(Conflict):
        tenants.create("acme", actor="admin")
    with pytest.raises(NotFound):
        tenants.create("other", umbrella="nobody", actor="admin")
    assert dump() == before


@pytest.mark.parametrize("name", ["", "1abc", "has space", "a" * 65, "x/y",
                                  "0f8fa3c2-5d2e-4f5e-9a59-2f3c1f4b6a7d"])
def test_bad_names_are_refused_and_change_nothing(tenants: TenantService, dump: Callable,
                                                  name: str) -> None:
    before = dump()
    with pytest.raises(InvalidInput, match="tenant name"):
        tenants.create(name, actor="admin")
    assert dump() == before


def test_umbrella_chain_lists_the_tenant_then_its_umbrellas(
        tenants: TenantService, sessions: sessionmaker[Session]) -> None:
    top = tenants.create("top", actor="admin")
    middle = tenants.create("middle", umbrella="top", actor="admin")
    bottom = tenants.create("bottom", umbrella="middle", actor="admin")
    with sessions() as session:
        assert umbrella_chain(session, bottom.id) == [bottom.id, middle.id, top.id]
        assert tenant_id_of(session, "middle") == middle.id


def test_set_umbrella_refuses_a_cycle_naming_the_chain(tenants: TenantService,
                                                       dump: Callable) -> None:
    tenants.create("a", actor="admin")
    tenants.create("b", umbrella="a", actor="admin")
    tenants.create("c", umbrella="b", actor="admin")
    before = dump()
    with pytest.raises(InvalidInput, match=r"cycle.*a -> c -> b -> a"):
        tenants.set_umbrella("a", "c", actor="admin")
    with pytest.raises(InvalidInput, match="cycle"):
        tenants.set_umbrella("a", "a", actor="admin")
    assert dump() == before


def test_set_umbrella_moves_and_detaches(tenants: TenantService) -> None:
    tenants.create("one", actor="admin")
    tenants.create("two", actor="admin")
    tenants.create("child", umbrella="one", actor="admin")
    assert tenants.set_umbrella("child", "two", actor="admin").umbrella == "two"
    assert tenants.set_umbrella("child", None, actor="admin").umbrella is None


def test_inheritors_are_found_transitively(tenants: TenantService) -> None:
    tenants.create("top", actor="admin")
    tenants.create("left", umbrella="top", actor="admin")
    tenants.create("right", umbrella="top", actor="admin")
    tenants.create("leaf", umbrella="left", actor="admin")
    tenants.create("unrelated", actor="admin")
    assert [t.name for t in tenants.inheritors("top")] == ["left", "right", "leaf"]
    assert tenants.inheritors("leaf") == []


def test_chains_longer_than_the_limit_are_refused(tenants: TenantService) -> None:
    tenants.create("t0", actor="admin")
    for n in range(1, MAX_CHAIN):
        tenants.create(f"t{n}", umbrella=f"t{n - 1}", actor="admin")
    with pytest.raises(InvalidInput, match="at most"):
        tenants.create("too_deep", umbrella=f"t{MAX_CHAIN - 1}", actor="admin")
