"""Master key rotation: re-wrap online under concurrent writes, lose nothing, retire safely."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.crypto import KeyRing, MasterKey
from hub.db import transaction
from hub.errors import ConfigurationError, CryptoError
from hub.secret_value import SecretValue
from hub.secrets import rotation
from hub.secrets.keyring_checks import verify_or_record_check
from hub.secrets.models import SecretVersion
from hub.secrets.store import SecretStore

NEW_KEY = MasterKey("k2", b"\x07" * 32)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def rotated(keyring: KeyRing, sessions: sessionmaker[Session]) -> KeyRing:
    """The ring after step 1 of a rotation: k2 primary, k1 kept to read; k2's check stored."""
    ring = keyring.with_primary(NEW_KEY)
    with transaction(sessions) as session:
        verify_or_record_check(session, keyring, "k1")
        verify_or_record_check(session, ring, "k2")
    return ring


def _usage(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return rotation.key_usage(session)


def test_rewrap_moves_every_data_key_and_leaves_value_ciphertexts_alone(
        store: SecretStore, rotated: KeyRing, sessions: sessionmaker[Session]) -> None:
    for n in range(7):
        store.create("acme", f"KEY_{n}", SecretValue(f"value number {n}"), actor="test")
    with sessions() as session:
        before = set(session.scalars(select(SecretVersion.ciphertext)).all())
    seen: list[int] = []
    assert rotation.rewrap(sessions, rotated, batch_size=3, progress=seen.append) == 7
    assert seen == [3, 3, 1]
    assert _usage(sessions) == {"k2": 7}
    with sessions() as session:
        assert set(session.scalars(select(SecretVersion.ciphertext)).all()) == before
    assert rotation.rewrap(sessions, rotated) == 0  # resumable: nothing left to do


def test_rotation_under_concurrent_writes_loses_no_value(
        store: SecretStore, make_store: Callable[..., SecretStore], rotated: KeyRing,
        sessions: sessionmaker[Session]) -> None:
    keys = [f"KEY_{n}" for n in range(12)]
    for key in keys:
        store.create("acme", key, SecretValue(f"{key} initial value"), actor="test")
    writer_store = make_store(keyring=rotated)
    latest: dict[str, str] = {key: f"{key} initial value" for key in keys}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            for step in range(6):
                key = keys[(number * 6 + step) % len(keys)]
                value = f"{key} from writer {number} step {step}"
                with lock:  # the lock orders our bookkeeping, not the store
                    writer_store.update("acme", key, actor=f"w{number}",
                                        value=SecretValue(value))
                    latest[key] = value
                new_key = f"NEW_{number}_{step}"
                writer_store.create("acme", new_key, SecretValue(f"{new_key} value"),
                                    actor="test")
                with lock:
                    latest[new_key] = f"{new_key} value"
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for thread in writers:
        thread.start()
    rotation.rewrap(sessions, rotated, batch_size=4)
    for thread in writers:
        thread.join(timeout=120)
    assert errors == []
    rotation.rewrap(sessions, rotated, batch_size=4)
    assert rotation.retire(sessions, rotated, "k1", now=NOW)
    only_new = make_store(keyring=KeyRing([NEW_KEY]))
    for key, value in latest.items():
        assert only_new.resolve("acme", key).value.reveal_text() == value
    assert set(_usage(sessions)) == {"k2"}


def test_a_key_still_in_use_is_not_retired(store: SecretStore, rotated: KeyRing,
                                           sessions: sessionmaker[Session]) -> None:
    store.create("acme", "TOKEN", SecretValue("written under k1"), actor="test")
    assert not rotation.retire(sessions, rotated, "k1", now=NOW)
    with pytest.raises(ConfigurationError):
        rotation.retire(sessions, rotated, "k2", now=NOW)


def test_a_process_still_on_a_retired_key_is_refused_writes(
        store: SecretStore, rotated: KeyRing, sessions: sessionmaker[Session],
        dump: Callable) -> None:
    store.create("acme", "TOKEN", SecretValue("written under k1"), actor="test")
    rotation.rewrap(sessions, rotated)
    assert rotation.retire(sessions, rotated, "k1", now=NOW)
    before = dump()
    with pytest.raises(ConfigurationError, match="retired"):
        store.update("acme", "TOKEN", actor="test", value=SecretValue("under the old key"))
    assert dump() == before


def test_a_long_running_store_reloads_its_ring_for_values_rewrapped_meanwhile(
        make_store: Callable[..., SecretStore], store: SecretStore, keyring: KeyRing,
        rotated: KeyRing, sessions: sessionmaker[Session]) -> None:
    store.create("acme", "TOKEN", SecretValue("written under k1"), actor="test")
    old_timer = make_store(keyring=keyring)
    reloading = make_store(keyring=keyring)
    reloading.reload_keyring = lambda: rotated
    rotation.rewrap(sessions, rotated)
    with pytest.raises(CryptoError):
        old_timer.resolve("acme", "TOKEN")
    assert reloading.resolve("acme", "TOKEN").value.reveal_text() == "written under k1"
