"""`hubctl events send` and `hubctl executions` against the real API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from hub.db import transaction
from hub.executions import Execution
from tests.hub.api.conftest import World
from tests.hub.cli.conftest import Hubctl, write


@pytest.fixture
def defined(world: World) -> World:
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
