"""`hubctl secrets` against the real API: values come in on stdin, never go out."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.hub.api.conftest import World, secret_text
from tests.hub.cli.conftest import Hubctl


def test_secrets_set_reads_the_value_from_stdin_and_never_prints_it(
        hubctl_as: Hubctl, world: World) -> None:
    value = secret_text()
    first = hubctl_as("secrets", "set", "db-password", input=value + "\n")
    assert "Created secret 'db-password': version 1." in first.stdout
    second = hubctl_as("secrets", "set", "db-password", "--note", "rotated",
                       input=value + "-2\n")
    assert "Updated secret 'db-password': version 2." in second.stdout
    resolved = world.hub.secrets.resolve("acme", "db-password")
    assert (resolved.version, resolved.value.reveal_text()) == (2, value + "-2")


def test_secrets_set_takes_no_value_on_the_command_line(
        hubctl_as: Hubctl, world: World) -> None:
    result = hubctl_as("secrets", "set", "db-password", secret_text(), ok=False)
    assert result.exit_code == 2  # a usage error: there is no place for a value
    assert world.hub.secrets.list("acme") == []


def test_secrets_set_refuses_an_empty_value(hubctl_as: Hubctl) -> None:
    result = hubctl_as("secrets", "set", "db-password", input="", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the value is empty")


def test_secrets_set_file_stores_the_files_bytes(hubctl_as: Hubctl, world: World,
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
        hubctl_as: Hubctl, world: World) -> None:
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
        hubctl_as: Hubctl, world: World) -> None:
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


def test_secrets_usage_lists_deliveries_by_version(hubctl_as: Hubctl, world: World
                                                   ) -> None:
    assert hubctl_as.json("secrets", "usage", "api-token") == []
    assert "execution" in hubctl_as("secrets", "usage", "api-token").stdout
