"""Start-up checks of the master key ring against the database: refuse clearly, never plaintext."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from hub.config import Settings
from hub.crypto import KeyRing, MasterKey
from hub.errors import ConfigurationError
from hub.secret_value import SecretValue
from hub.secrets.keyring_checks import open_keyring
from hub.secrets.models import MasterKeyCheck
from hub.secrets.store import SecretStore
from hub.tenants import TenantService
from tests.clock import FakeClock

K1 = MasterKey("k1", b"\x01" * 32)


def _settings(home: Path, ring: KeyRing | None = None) -> Settings:
    key = SecretStr(ring.serialize()) if ring is not None else None
    return Settings(home=home, master_key=key)


def _store_one_secret(engine: Engine, sessions: sessionmaker[Session], ring: KeyRing,
                      home: Path) -> None:
    clock = FakeClock(step=timedelta(microseconds=1))
    TenantService(sessions, clock=clock).create("acme", actor="test")
    SecretStore(sessions, ring, _settings(home, ring), clock=clock).create(
        "acme", "TOKEN", SecretValue("a long enough value"), actor="test")


def test_an_empty_database_without_a_key_gets_a_private_generated_one(
        engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring = open_keyring(engine, _settings(tmp_path))
    key_file = tmp_path / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a new master key" in capsys.readouterr().err
    assert open_keyring(engine, _settings(tmp_path)).ids == ring.ids
    assert "generated" not in capsys.readouterr().err  # said once


def test_a_database_with_secrets_and_no_key_refuses_to_start(
        engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _store_one_secret(engine, sessions, KeyRing([K1]), tmp_path / "before")
    home = tmp_path / "after"
    with pytest.raises(ConfigurationError, match=r"holds encrypted secrets.*HUB_MASTER_KEY"):
        open_keyring(engine, _settings(home))
    assert not (home / "master.key").exists()


def test_the_wrong_key_under_a_known_id_refuses_to_start(
        engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    open_keyring(engine, _settings(tmp_path, KeyRing([K1])))
    impostor = KeyRing([MasterKey("k1", b"\x09" * 32)])
    with pytest.raises(ConfigurationError, match="wrong master key for id k1"):
        open_keyring(engine, _settings(tmp_path, impostor))


def test_data_under_a_key_the_ring_lacks_refuses_to_start_naming_it(
        engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _store_one_secret(engine, sessions, KeyRing([K1]), tmp_path)
    other = KeyRing([MasterKey("k9", b"\x09" * 32)])
    with pytest.raises(ConfigurationError, match="k1"):
        open_keyring(engine, _settings(tmp_path, other))


def test_a_new_ring_key_gets_its_check_recorded(engine: Engine,
                                                sessions: sessionmaker[Session],
                                                tmp_path: Path) -> None:
    ring = KeyRing([K1]).with_primary(MasterKey("k2", b"\x02" * 32))
    open_keyring(engine, _settings(tmp_path, ring))
    with sessions() as session:
        assert sorted(session.scalars(select(MasterKeyCheck.key_id))) == ["k1", "k2"]
