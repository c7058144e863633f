"""`hubctl event-types | actions | automations | sinks` against the real API."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hub.cli.conftest import Hubctl, write


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


def test_sinks_list_shows_which_parameters_are_credentials(hubctl_as: Hubctl) -> None:
    sinks = {s["name"]: s for s in hubctl_as.json("sinks", "list", who="viewer")}
    assert "password" in sinks["http"]["credentials"]
    assert "log" in hubctl_as("sinks", "list", who="viewer").stdout
