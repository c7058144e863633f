"""`hubctl keys generate|status|rotate` on a real database with real secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import Settings
from hub.crypto import KeyRing
from hub.errors import ConfigurationError
from hub.runtime import open_hub
from hub.secret_value import SecretValue
from hub.secrets import rotation

VALUES = {f"KEY_{n}": f"value number {n} of the test" for n in range(5)}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": database_url}


def _settings(env: dict[str, str]) -> Settings:
    return Settings(home=Path(env["HUB_HOME"]), database_url=env["HUB_DATABASE_URL"],
                    master_key=env.get("HUB_MASTER_KEY"))


def _seed(env: dict[str, str]) -> None:
    hub = open_hub(_settings(env))
    try:
        hub.tenants.create("acme", actor="test")
        for key, value in VALUES.items():
            hub.secrets.create("acme", key, SecretValue(value), actor="test")
    finally:
        hub.close()


def _check_all_resolve(env: dict[str, str]) -> dict[str, int]:
    hub = open_hub(_settings(env))
    try:
        for key, value in VALUES.items():
            assert hub.secrets.resolve("acme", key).value.reveal_text() == value
        with hub.sessions() as session:
            return rotation.key_usage(session)
    finally:
        hub.close()


def test_generate_prints_a_usable_key_ring_entry(env: dict[str, str]) -> None:
    code, out, err = run(env, "keys", "generate", "--id", "mykey")
    assert code == 0, err
    assert KeyRing.parse(out, source="stdout").ids == ("mykey",)


def test_rotate_with_the_key_file_rewraps_everything_and_retires_the_old_key(
        env: dict[str, str]) -> None:
    _seed(env)
    old_ids = set(_check_all_resolve(env))
    code, out, err = run(env, "keys", "rotate")
    assert code == 0, err + out
    assert "Re-wrapped 5 data key(s)" in out and "Retired" in out
    ring = KeyRing.parse((Path(env["HUB_HOME"]) / "master.key").read_text(), source="file")
    assert len(ring.ids) == 1 and ring.primary_id not in old_ids
    assert _check_all_resolve(env) == {ring.primary_id: 5}
    code, out, err = run(env, "keys", "status")
    assert code == 0 and f"{ring.primary_id}  primary" in out


def test_rotate_with_the_ring_in_the_environment_prints_it_then_resumes(
        env: dict[str, str]) -> None:
    old = KeyRing([KeyRing.generate("old")])
    env = {**env, "HUB_MASTER_KEY": old.serialize()}
    _seed(env)
    code, out, err = run(env, "keys", "rotate")
    assert code == 0, err
    assert "--rewrap-only" in err
    rotated = KeyRing.parse(out.strip().splitlines()[-1], source="stdout")
    assert rotated.ids[1:] == ("old",)
    assert _check_all_resolve(env) == {"old": 5}  # nothing moved yet
    env["HUB_MASTER_KEY"] = rotated.serialize()
    code, out, err = run(env, "keys", "rotate", "--rewrap-only")
    assert code == 0, err
    final = KeyRing.parse(out.strip().splitlines()[-1], source="stdout")
    assert final.ids == (rotated.primary_id,)
    assert _check_all_resolve(env) == {rotated.primary_id: 5}
    # A process still on the old ring is refused at start: its key is gone from the data.
    with pytest.raises(ConfigurationError):
        _check_all_resolve({**env, "HUB_MASTER_KEY": old.serialize()})


def test_rotate_keep_old_leaves_the_fallback_in_the_ring(env: dict[str, str]) -> None:
    _seed(env)
    code, _out, err = run(env, "keys", "rotate", "--keep-old")
    assert code == 0, err
    ring = KeyRing.parse((Path(env["HUB_HOME"]) / "master.key").read_text(), source="file")
    assert len(ring.ids) == 2
    assert _check_all_resolve(env) == {ring.primary_id: 5}
