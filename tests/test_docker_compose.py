"""docker-compose.yml is checked as far as we can without a Docker engine: its shape, its
commands against the real CLI, its settings against the real Settings, and the promise that
workers never receive the master key."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.main import get_command

from hub.cli import app
from hub.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    return dict(env)


def test_compose_declares_the_multi_machine_layout() -> None:
    assert {"hub", "dispatcher", "worker", "redis", "postgres", "migrate"} <= set(SERVICES)


def test_every_hub_service_runs_an_existing_hubctl_command() -> None:
    cli = get_command(app)
    for name, service in SERVICES.items():
        command = service.get("command")
        if not command or command[0] != "hubctl":
            continue
        group = cli
        for word in command[1:]:
            if word.startswith("-"):
                break
            assert word in group.commands, f"{name}: `hubctl {word}` does not exist"  # type: ignore[attr-defined]
            group = group.commands[word]  # type: ignore[attr-defined]


def test_every_hub_variable_in_compose_is_a_real_setting() -> None:
    fields = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    for name, service in SERVICES.items():
        for variable in _env(service):
            if variable.startswith("HUB_"):
                assert variable in fields, f"{name}: {variable} is not a hub setting"


def test_workers_never_receive_the_master_key() -> None:
    worker = SERVICES["worker"]
    assert not any(v.startswith("HUB_MASTER_KEY") for v in _env(worker))
    assert "master_key" not in (worker.get("secrets") or [])
    assert "transport_key" in worker["secrets"]


def test_keys_come_from_mounted_files_not_inline_values() -> None:
    for service in SERVICES.values():
        env = _env(service)
        assert "HUB_MASTER_KEY" not in env and "HUB_TRANSPORT_KEY" not in env
    assert set(COMPOSE["secrets"]) == {"master_key", "transport_key"}
