"""`hubctl` operator commands against the real API, served by uvicorn on a free local port.

The app runs in a thread of the test process on each real database (the API tests' fixtures);
the commands reach it over HTTP exactly as they would a remote hub (`HUB_URL`, `HUB_TOKEN`).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import update
from typer.testing import CliRunner, Result

from hub.cli import app as hubctl
from hub.db import transaction
from hub.executions import Execution
from tests.hub.api.conftest import (  # noqa: F401  (fixtures)
    SECRET_MARK,
    World,
    app,
    hub,
    secret_text,
    settings,
    world,
)


@pytest.fixture
def hub_url(app: FastAPI) -> Iterator[str]:  # noqa: F811
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


class Hubctl:
    """Runs `hubctl` as one of the world's callers against the served hub."""

    def __init__(self, url: str, world: World) -> None:  # noqa: F811
        self.url = url
        self.world = world
        self.runner = CliRunner()

    def __call__(self, *args: str, who: str = "admin", input: str | None = None,
                 ok: bool = True) -> Result:
        env = {"HUB_URL": self.url, "HUB_TOKEN": self.world.bearer.get(who, "")}
        result = self.runner.invoke(hubctl, list(args), env=env, input=input)
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        # Whatever the command, no stored secret value is ever printed.
        assert SECRET_MARK not in result.output
        return result

    def json(self, *args: str, who: str = "admin") -> Any:
        return json.loads(self(*args, "--json", who=who).stdout)


@pytest.fixture
def hubctl_as(hub_url: str, world: World) -> Hubctl:  # noqa: F811
    return Hubctl(hub_url, world)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- secrets -------------------------------------------------------------------------------------


def test_secrets_set_reads_the_value_from_stdin_and_never_prints_it(
        hubctl_as: Hubctl, world: World) -> None:  # noqa: F811
    value = secret_text()
    first = hubctl_as("secrets", "set", "db-password", input=value + "\n")
    assert "Created secret 'db-password': version 1." in first.stdout
    second = hubctl_as("secrets", "set", "db-password", "--note", "rotated",
                       input=value + "-2\n")
    assert "Updated secret 'db-password': version 2." in second.stdout
    resolved = world.hub.secrets.resolve("acme", "db-password")
    assert (resolved.version, resolved.value.reveal_text()) == (2, value + "-2")


def test_secrets_set_takes_no_value_on_the_command_line(
        hubctl_as: Hubctl, world: World) -> None:  # noqa: F811
    result = hubctl_as("secrets", "set", "db-password", secret_text(), ok=False)
    assert result.exit_code == 2  # a usage error: there is no place for a value
    assert world.hub.secrets.list("acme") == []


def test_secrets_set_refuses_an_empty_value(hubctl_as: Hubctl) -> None:
    result = hubctl_as("secrets", "set", "db-password", input="", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the value is empty")


def test_secrets_set_file_stores_the_files_bytes(hubctl_as: Hubctl, world: World,  # noqa: F811
                                                 tmp_path: Path) -> None:
    data = b"\x00\x01binary " + secret_text().encode()
    path = tmp_path / "client.p12"
    path.write_bytes(data)
    item = hubctl_as.json("secrets", "set", "tls-bundle", "--file", str(path))
    assert (item["type"], item["version"], item["filename"]) == ("file", 1, "client.p12")
    assert world.hub.secrets.resolve("acme", "tls-bundle").value.reveal() == data
    assert base64.b64encode(data).decode() not in json.dumps(item)
    path.write_bytes(data + b" v2")
    assert hubctl_as.json("secrets", "set", "tls-bundle", "--file", str(path))["version"] == 2
    assert world.hub.secrets.resolve("acme", "tls-bundle").value.reveal() == data + b" v2"


def test_secrets_show_versions_restore_rename_and_references(
        hubctl_as: Hubctl, world: World) -> None:  # noqa: F811
    key = world.new_secret(versions=2)
    listed = hubctl_as.json("secrets", "list")
    assert [s["key"] for s in listed] == [key]
    assert key in hubctl_as("secrets", "list").stdout
    shown = hubctl_as.json("secrets", "show", key)
    assert sorted(v["version"] for v in shown["versions"]) == [1, 2]
    assert len(hubctl_as.json("secrets", "versions", key)) == 2
    restored = hubctl_as("secrets", "restore", key, "1", "--note", "roll back")
    assert "now version 3" in restored.stdout
    assert world.hub.secrets.resolve("acme", key).value.reveal_text() == world.values[0]
    hubctl_as("secrets", "rename", key, "renamed-key")
    assert hubctl_as.json("secrets", "references", "renamed-key") == []


def test_deleting_a_referenced_secret_fails_with_one_line_unless_forced(
        hubctl_as: Hubctl, world: World) -> None:  # noqa: F811
    key = world.new_secret()
    world.hub.automations.create_event_type("acme", name="push", actor="test", parameters=[
        {"name": "signing_secret", "type": "SECRET", "value": key}])
    refs = hubctl_as.json("secrets", "references", key)
    assert [(r["owner_kind"], r["owner"], r["parameter"]) for r in refs] == [
        ("event_type", "push", "signing_secret")]
    refused = hubctl_as("secrets", "delete", key, ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("error: ")
    assert "push" in refused.stderr and "--force" in refused.stderr
    assert "Deleted" in hubctl_as("secrets", "delete", key, "--force").stdout


def test_secrets_usage_lists_deliveries_by_version(hubctl_as: Hubctl, world: World  # noqa: F811
                                                   ) -> None:
    assert hubctl_as.json("secrets", "usage", "api-token") == []
    assert "execution" in hubctl_as("secrets", "usage", "api-token").stdout


# -- tokens --------------------------------------------------------------------------------------


def test_tokens_create_list_and_revoke(hubctl_as: Hubctl, world: World) -> None:  # noqa: F811
    created = hubctl_as("tokens", "create", "--role", "viewer", "--description", "ci")
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("sk_")
    listed = hubctl_as.json("tokens", "list")
    made = next(t for t in listed if t["description"] == "ci")
    assert token not in json.dumps(listed)
    hubctl_as("tokens", "revoke", made["id"])
    world.bearer["fresh"] = token
    refused = hubctl_as("sinks", "list", who="fresh", ok=False)
    assert refused.exit_code == 1 and "(401)" in refused.stderr


def test_a_viewer_is_told_clearly_it_may_not_create_tokens(hubctl_as: Hubctl) -> None:
    result = hubctl_as("tokens", "create", "--role", "admin", who="viewer", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "(403)" in result.stderr


# -- definitions ---------------------------------------------------------------------------------


def test_apply_creates_then_replaces_definitions_from_yaml_and_json(
        hubctl_as: Hubctl, tmp_path: Path) -> None:
    types = write(tmp_path, "types.yaml", """
- name: push
  parameters:
    - {name: signing_secret, type: SECRET, value: hook-key}
- name: order
""")
    applied = hubctl_as("event-types", "apply", str(types))
    assert "Created event type 'push'." in applied.stdout
    assert "hook-key" in applied.stderr and applied.stderr.startswith("warning: ")
    action = write(tmp_path, "action.json", json.dumps(
        {"name": "notify", "sink": "log", "parameters": [], "timeout": 5}))
    hubctl_as("actions", "apply", str(action))
    automation = write(tmp_path, "automation.yaml",
                       "name: orders\nevent_type: order\naction: notify\n")
    hubctl_as("automations", "apply", str(automation))
    again = hubctl_as("automations", "apply", str(automation))
    assert "Replaced automation 'orders'." in again.stdout
    assert [a["timeout"] for a in hubctl_as.json("actions", "list")] == [5]
    assert hubctl_as.json("automations", "show", "orders")["event_type"] == "order"
    assert "orders" in hubctl_as("automations", "list").stdout
    assert "notify" in hubctl_as("actions", "show", "notify").stdout
    hubctl_as("automations", "delete", "orders")
    assert hubctl_as.json("automations", "list") == []


def test_an_unknown_definition_is_one_error_line_and_exit_code_1(hubctl_as: Hubctl) -> None:
    result = hubctl_as("event-types", "show", "missing", ok=False)
    assert result.exit_code == 1
    assert result.stderr == "error: event type 'missing' not found (404)\n"


def test_apply_refuses_a_file_that_holds_no_definition(hubctl_as: Hubctl,
                                                       tmp_path: Path) -> None:
    result = hubctl_as("actions", "apply", str(write(tmp_path, "x.yaml", "- 1\n")), ok=False)
    assert result.exit_code == 1 and "must hold an object" in result.stderr


# -- events, executions, sinks -------------------------------------------------------------------


@pytest.fixture
def defined(world: World) -> World:  # noqa: F811
    world.hub.automations.create_event_type("acme", name="order", actor="test")
    world.hub.automations.create_action("acme", name="notify", sink="log", actor="test")
    world.hub.automations.create_automation("acme", name="orders", event_type="order",
                                            action="notify", actor="test")
    return world


def test_events_send_then_executions_list_show_and_replay(
        hubctl_as: Hubctl, defined: World, tmp_path: Path) -> None:
    sent = hubctl_as.json("events", "send", "order", "--payload", '{"id": 7}',
                          "--idempotency-key", "order-7", who="writer")
    execution_id = sent["executions"][0]["id"]
    again = hubctl_as("events", "send", "order", "--payload-file",
                      str(write(tmp_path, "p.json", '{"id": 7}')),
                      "--idempotency-key", "order-7", who="ingest")
    assert "already received" in again.stdout and sent["id"] in again.stdout
    listed = hubctl_as.json("executions", "list", "--status", "queued", "--action", "notify")
    assert [e["id"] for e in listed] == [execution_id]
    assert execution_id in hubctl_as("executions", "list").stdout
    shown = hubctl_as.json("executions", "show", execution_id)
    assert (shown["status"], shown["event"]["type"]) == ("queued", "order")
    assert "queued" in hubctl_as("executions", "show", execution_id).stdout
    refused = hubctl_as("executions", "replay", execution_id, ok=False)
    assert refused.exit_code == 1 and "(409)" in refused.stderr
    with transaction(defined.hub.sessions) as session:
        session.execute(update(Execution).where(Execution.id == execution_id)
                        .values(status="failed"))
    replayed = hubctl_as("executions", "replay", execution_id, who="writer")
    assert "is queued again" in replayed.stdout


def test_events_send_refuses_a_payload_that_is_not_json(hubctl_as: Hubctl) -> None:
    result = hubctl_as("events", "send", "order", "--payload", "{nope", ok=False)
    assert result.exit_code == 1 and "not valid JSON" in result.stderr


def test_sinks_list_shows_which_parameters_are_credentials(hubctl_as: Hubctl) -> None:
    sinks = {s["name"]: s for s in hubctl_as.json("sinks", "list", who="viewer")}
    assert "password" in sinks["http"]["credentials"]
    assert "log" in hubctl_as("sinks", "list", who="viewer").stdout


# -- demo and connection problems ----------------------------------------------------------------


def test_demo_sets_up_a_tenant_and_sends_one_event(hubctl_as: Hubctl,
                                                   world: World) -> None:  # noqa: F811
    result = hubctl_as("demo", "--wait", "0", who="writer")
    assert "Created secret 'demo-greeting'" in result.stdout
    assert "Sent a 'demo.order' event" in result.stdout
    assert "queued" in result.stdout
    again = hubctl_as("demo", "--wait", "0", who="writer")
    assert "exists already" in again.stdout and "Replaced action 'demo-log'" in again.stdout
    plan = [a["parameters"] for a in hubctl_as.json("actions", "list")]
    assert {"name": "message", "type": "SECRET", "value": "demo-greeting"} in plan[0]
    value = world.hub.secrets.resolve("acme", "demo-greeting").value.reveal_text()
    assert value not in result.output + again.output


def test_no_token_is_a_clear_error(hubctl_as: Hubctl) -> None:
    result = hubctl_as("sinks", "list", who="nobody", ok=False)
    assert result.exit_code == 1 and "HUB_TOKEN is not set" in result.stderr


def test_an_unreachable_hub_is_a_clear_error(world: World) -> None:  # noqa: F811
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = Hubctl(f"http://127.0.0.1:{port}", world)("sinks", "list", ok=False)
    assert result.exit_code == 1
    assert "cannot reach the hub" in result.stderr and "ConnectError" in result.stderr


def test_an_injected_transport_serves_the_commands_in_process(world: World) -> None:  # noqa: F811
    """`obj=` hands the client a transport: here one that answers every call with a problem."""
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {world.bearer['admin']}"
        return httpx.Response(503, json={"detail": "maintenance", "status": 503},
                              headers={"content-type": "application/problem+json"})

    result = CliRunner().invoke(hubctl, ["sinks", "list"], obj=httpx.MockTransport(answer),
                                env={"HUB_URL": "http://hub.invalid",
                                     "HUB_TOKEN": world.bearer["admin"]})
    assert (result.exit_code, result.stderr) == (1, "error: maintenance (503)\n")
