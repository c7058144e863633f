"""Where keys come from: variables, key files, and the generated first-run default."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.config import Settings
from hub.crypto import KeyRing
from hub.errors import ConfigurationError
from hub.keyfiles import (
    load_master_keyring,
    load_transport_keys,
    master_key_source,
    save_master_keyring,
    transport_key_source,
)
from hub.sealing import TransportKeys


def settings(home: Path, **keys: object) -> Settings:
    """Settings that ignore any HUB_*KEY* variables of the machine running the tests."""
    fields: dict[str, object] = {
        "master_key": None, "master_key_file": None,
        "transport_key": None, "transport_key_file": None,
    }
    fields.update(keys)
    return Settings(home=home, **fields)  # type: ignore[arg-type]


def write_key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_key_file_is_private_and_a_second_call_reads_the_same_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(tmp_path / "home")
    first = load_master_keyring(config, may_generate=True)
    path = tmp_path / "home" / "master.key"
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    second = load_master_keyring(config, may_generate=True)
    assert second.ids == first.ids
    assert second.primary == first.primary
    assert capsys.readouterr().err == (
        f"hub: generated a new master key in {path} (mode 0600); back it up\n"
    )


def test_generated_key_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        load_master_keyring(settings(tmp_path), may_generate=True)
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / "master.key") == 0o600


def test_concurrent_first_runs_end_with_one_shared_key(tmp_path: Path) -> None:
    config = settings(tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        rings = list(pool.map(lambda _: load_master_keyring(config, may_generate=True),
                              range(16)))
    assert len({ring.primary.material for ring in rings}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temporary left behind


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_open_to_other_users_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / "master.key", KeyRing([KeyRing.generate("k1")]).serialize(),
                          mode)
    with pytest.raises(ConfigurationError) as caught:
        load_master_keyring(settings(tmp_path), may_generate=True)
    assert str(path) in str(caught.value)
    assert "chmod 600" in str(caught.value)


def test_no_key_without_permission_to_generate_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_master_keyring(settings(tmp_path), may_generate=False)
    message = str(caught.value)
    assert "encrypted secrets" in message
    assert "HUB_MASTER_KEY or HUB_MASTER_KEY_FILE" in message
    assert not (tmp_path / "master.key").exists()


def test_workers_without_a_transport_key_are_told_which_variables_to_set(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_transport_keys(settings(tmp_path), may_generate=False)
    assert "HUB_TRANSPORT_KEY or HUB_TRANSPORT_KEY_FILE" in str(caught.value)


def test_the_variable_wins_over_the_files(tmp_path: Path) -> None:
    load_master_keyring(settings(tmp_path), may_generate=True)  # a default file exists
    given = KeyRing([KeyRing.generate("env1")])
    config = settings(tmp_path, master_key=SecretStr(given.serialize()))
    assert load_master_keyring(config, may_generate=False).ids == ("env1",)
    assert master_key_source(config) == "HUB_MASTER_KEY"


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    config = settings(tmp_path, master_key=SecretStr(""))
    assert load_master_keyring(config, may_generate=True).ids
    assert master_key_source(config) == str(tmp_path / "master.key")


def test_the_named_key_file_wins_over_the_default(tmp_path: Path) -> None:
    load_master_keyring(settings(tmp_path), may_generate=True)
    path = write_key_file(tmp_path / "mine.key", KeyRing([KeyRing.generate("file1")]).serialize())
    config = settings(tmp_path, master_key_file=path)
    assert load_master_keyring(config, may_generate=False).ids == ("file1",)
    assert master_key_source(config) == str(path)


def test_a_named_key_file_that_is_missing_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    config = settings(tmp_path, master_key_file=tmp_path / "absent.key")
    with pytest.raises(ConfigurationError) as caught:
        load_master_keyring(config, may_generate=True)
    assert "HUB_MASTER_KEY_FILE" in str(caught.value)
    assert not (tmp_path / "absent.key").exists()
    assert not (tmp_path / "master.key").exists()


def test_a_malformed_key_file_is_named_and_its_content_not_echoed(tmp_path: Path) -> None:
    content = "k1:c29tZS10ZXh0LXRoYXQtaXMtbm90LWEta2V5"
    path = write_key_file(tmp_path / "master.key", content)
    with pytest.raises(ConfigurationError) as caught:
        load_master_keyring(settings(tmp_path), may_generate=True)
    assert str(path) in str(caught.value)
    assert "c29tZS10ZXh0" not in str(caught.value)


def test_a_malformed_variable_is_named_and_its_content_not_echoed(tmp_path: Path) -> None:
    config = settings(tmp_path, transport_key=SecretStr("t1:bm90LWEta2V5LWF0LWFsbA"))
    with pytest.raises(ConfigurationError) as caught:
        load_transport_keys(config, may_generate=True)
    assert "HUB_TRANSPORT_KEY" in str(caught.value)
    assert "bm90LWEta2V5" not in str(caught.value)


def test_save_replaces_the_default_file_privately_and_keeps_old_keys(tmp_path: Path) -> None:
    config = settings(tmp_path)
    ring = load_master_keyring(config, may_generate=True)
    rotated = ring.with_primary(KeyRing.generate("k2"))
    path = save_master_keyring(config, rotated)
    assert path == tmp_path / "master.key"
    assert mode_of(path) == 0o600
    again = load_master_keyring(config, may_generate=False)
    assert again.ids == ("k2", *ring.ids)
    assert again.get(ring.primary_id) == ring.primary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


def test_save_refuses_a_ring_that_comes_from_the_variable(tmp_path: Path) -> None:
    given = KeyRing([KeyRing.generate("env1")])
    config = settings(tmp_path, master_key=SecretStr(given.serialize()))
    with pytest.raises(ConfigurationError) as caught:
        save_master_keyring(config, given.with_primary(KeyRing.generate("k2")))
    assert "HUB_MASTER_KEY" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_transport_key_is_generated_apart_from_the_master_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(tmp_path)
    master = load_master_keyring(config, may_generate=True)
    transport = load_transport_keys(config, may_generate=True)
    assert isinstance(transport, TransportKeys)
    assert transport.primary.material != master.primary.material
    assert mode_of(tmp_path / "transport.key") == 0o600
    assert load_transport_keys(config, may_generate=False).primary == transport.primary
    assert transport_key_source(config) == str(tmp_path / "transport.key")
    assert "generated a new transport key" in capsys.readouterr().err


def test_the_transport_key_can_come_from_its_variable(tmp_path: Path) -> None:
    given = TransportKeys([TransportKeys.generate("t1")])
    config = settings(tmp_path, transport_key=SecretStr(given.serialize()))
    assert load_transport_keys(config, may_generate=False).primary == given.primary
    assert transport_key_source(config) == "HUB_TRANSPORT_KEY"
