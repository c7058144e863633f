"""Retention by count and age, and the purge of deleted keys after the recovery window."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub import audit
from hub.config import Settings
from hub.errors import Conflict, InvalidInput
from hub.secret_value import SecretValue
from hub.secrets.models import Secret, SecretVersion
from hub.secrets.store import SecretStore
from hub.tenants import tenant_id_of
from tests.clock import FakeClock


def _versions(store: SecretStore, key: str, count: int, clock: FakeClock) -> None:
    store.create("acme", key, SecretValue(f"{key} version 1"), actor="test")
    for n in range(2, count + 1):
        clock.advance(days=1)
        store.update("acme", key, actor="test", value=SecretValue(f"{key} version {n}"))


def test_retention_keeps_the_newest_versions_and_shreds_the_rest(
        store: SecretStore, clock: FakeClock, sessions: sessionmaker[Session]) -> None:
    _versions(store, "TOKEN", 5, clock)
    assert store.apply_retention("acme", actor="admin", max_versions=2) == [
        ("TOKEN", 1), ("TOKEN", 2), ("TOKEN", 3)]
    history = {v.version: v.destroyed for v in store.versions("acme", "TOKEN")}
    assert history == {5: False, 4: False, 3: True, 2: True, 1: True}
    with sessions() as session:
        shredded = session.scalars(select(SecretVersion).where(
            SecretVersion.version <= 3)).all()
        assert all(v.wrapped_key is None and v.ciphertext is None and v.kek_id is None
                   for v in shredded)
    with pytest.raises(Conflict, match="destroyed"):
        store.restore("acme", "TOKEN", 2, actor="test")
    assert store.resolve("acme", "TOKEN").value.reveal_text() == "TOKEN version 5"


def test_retention_by_age_never_destroys_the_active_version(
        store: SecretStore, clock: FakeClock) -> None:
    _versions(store, "TOKEN", 3, clock)
    clock.advance(days=100)
    assert store.apply_retention("acme", "TOKEN", actor="admin", max_age_days=30) == [
        ("TOKEN", 1), ("TOKEN", 2)]
    assert store.resolve("acme", "TOKEN").version == 3


def test_retention_defaults_come_from_the_settings(
        make_store: Callable[..., SecretStore], tenants: object, clock: FakeClock,
        settings: Settings) -> None:
    store = make_store(settings=settings.model_copy(update={"retention_max_versions": 1}))
    _versions(store, "TOKEN", 3, clock)
    assert store.apply_retention("acme", actor="admin") == [("TOKEN", 1), ("TOKEN", 2)]


def test_without_a_policy_retention_destroys_nothing(store: SecretStore,
                                                     clock: FakeClock) -> None:
    _versions(store, "TOKEN", 3, clock)
    assert store.apply_retention("acme", actor="admin") == []


def test_each_retention_purge_is_audited(store: SecretStore, clock: FakeClock,
                                         sessions: sessionmaker[Session]) -> None:
    _versions(store, "TOKEN", 3, clock)
    store.apply_retention("acme", actor="admin", max_versions=1)
    with sessions() as session:
        entry = audit.entries(session, tenant_id_of(session, "acme"),
                              action="secret.retention")[0]
        assert (entry.actor, entry.details["destroyed_versions"]) == ("admin", [1, 2])


def test_bad_retention_numbers_are_refused_and_change_nothing(
        store: SecretStore, clock: FakeClock, dump: Callable) -> None:
    _versions(store, "TOKEN", 2, clock)
    before = dump()
    for bad in ({"max_versions": 0}, {"max_age_days": -1}, {"max_versions": True}):
        with pytest.raises(InvalidInput):
            store.apply_retention("acme", actor="admin", **bad)
    assert dump() == before


def test_purge_after_the_recovery_window_shreds_and_keeps_a_tombstone(
        store: SecretStore, clock: FakeClock, sessions: sessionmaker[Session]) -> None:
    _versions(store, "TOKEN", 2, clock)
    store.delete("acme", "TOKEN", actor="test")
    clock.advance(days=6)
    assert store.purge_expired() == 0
    clock.advance(days=2)
    assert store.purge_expired() == 1
    assert store.purge_expired() == 0
    with sessions() as session:
        secret = session.scalars(select(Secret)).one()
        assert secret.purged_at is not None and secret.key == "TOKEN"
        versions = session.scalars(select(SecretVersion)).all()
        assert [v.version for v in versions] != [] and all(
            v.ciphertext is None and v.wrapped_key is None and v.destroyed_at is not None
            for v in versions)
        entry = audit.entries(session, tenant_id_of(session, "acme"), action="secret.purge")
        assert entry[0].details["destroyed_versions"] == [1, 2]
    with pytest.raises(Conflict, match="recovery window"):
        store.undelete("acme", "TOKEN", actor="test")


def test_undelete_after_the_window_is_refused_even_before_the_purge_ran(
        store: SecretStore, clock: FakeClock, dump: Callable) -> None:
    store.create("acme", "TOKEN", SecretValue("a long enough value"), actor="test")
    store.delete("acme", "TOKEN", actor="test")
    clock.advance(days=8)
    before = dump()
    with pytest.raises(Conflict):
        store.undelete("acme", "TOKEN", actor="test")
    assert dump() == before


def test_a_deleted_key_name_can_be_used_again_and_undelete_then_conflicts(
        store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue("the first value"), actor="test")
    store.delete("acme", "TOKEN", actor="test")
    store.create("acme", "TOKEN", SecretValue("the second value"), actor="test")
    with pytest.raises(Conflict, match="exists again"):
        store.undelete("acme", "TOKEN", actor="test")
    assert store.resolve("acme", "TOKEN").value.reveal_text() == "the second value"
