"""`hubctl tenants create|list` on a real, migrated database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import Settings
from hub.runtime import open_hub
from hub.tokens import TokenService


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def authenticate(env: dict[str, str], token: str) -> tuple[str, str]:
    hub = open_hub(Settings(home=Path(env["HUB_HOME"]), database_url=env["HUB_DATABASE_URL"]))
    try:
        info = TokenService(hub.sessions, clock=hub.clock).authenticate(token)
        return hub.tenants.get_by_id(info.tenant_id).name, info.role
    finally:
        hub.close()


def test_create_prints_a_working_admin_token_alone_on_the_last_line(
        env: dict[str, str]) -> None:
    code, out, err = run(env, "tenants", "create", "acme")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("sk_") and " " not in token
    assert authenticate(env, token) == ("acme", "admin")


def test_create_with_json_prints_tenant_and_token(env: dict[str, str]) -> None:
    run(env, "tenants", "create", "parent")
    code, out, err = run(env, "tenants", "create", "child", "--umbrella", "parent", "--json")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["tenant"] == "child" and printed["umbrella"] == "parent"
    assert authenticate(env, printed["token"]) == ("child", "admin")


def test_creating_an_existing_tenant_fails_clearly_and_prints_no_token(
        env: dict[str, str]) -> None:
    run(env, "tenants", "create", "acme")
    code, out, err = run(env, "tenants", "create", "acme")
    assert code == 2
    assert "already exists" in err
    assert "sk_" not in out


def test_unknown_umbrella_fails_without_creating_the_tenant(env: dict[str, str]) -> None:
    code, _out, err = run(env, "tenants", "create", "orphan", "--umbrella", "nobody")
    assert code == 2 and "nobody" in err
    _code, listed, _err = run(env, "tenants", "list", "--json")
    assert [t["name"] for t in json.loads(listed)] == []


def test_list_shows_each_tenant_with_its_umbrella(env: dict[str, str]) -> None:
    run(env, "tenants", "create", "parent")
    run(env, "tenants", "create", "child", "--umbrella", "parent")
    code, out, _err = run(env, "tenants", "list")
    assert code == 0
    assert out.splitlines() == ["child  (umbrella: parent)", "parent"]


def test_create_on_an_empty_database_says_to_run_db_upgrade(tmp_path: Path) -> None:
    env = {"HUB_HOME": str(tmp_path), "HUB_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"}
    code, _out, err = run(env, "tenants", "create", "acme")
    assert code == 2 and "hubctl db upgrade" in err
