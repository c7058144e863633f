"""`hubctl demo` against the real API: it sets up a tenant and is safe to repeat."""

from __future__ import annotations

from tests.hub.api.conftest import World
from tests.hub.cli.conftest import Hubctl


def test_demo_sets_up_a_tenant_and_sends_one_event(hubctl_as: Hubctl,
                                                   world: World) -> None:
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
