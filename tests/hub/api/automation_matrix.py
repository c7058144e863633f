"""Authorization-matrix entries for the automation, event, execution and hook routes."""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import update

from hub.db import transaction
from hub.executions import Execution
from tests.hub.api.conftest import World
from tests.hub.api.test_authorization import Entry, a_secret

LINKED_TYPE, LINKED_ACTION = "matrix-type", "matrix-action"


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def an_event_type(world: World) -> dict[str, Any]:
    name = _name("type")
    world.hub.automations.create_event_type("acme", name=name, actor="test")
    return {"name": name}


def an_action(world: World) -> dict[str, Any]:
    name = _name("action")
    world.hub.automations.create_action("acme", name=name, sink="log", actor="test")
    return {"name": name}


def linked(world: World) -> dict[str, Any]:
    """acme's `matrix-type` and `matrix-action`, linked by an automation (made once)."""
    service = world.hub.automations
    if not any(t.name == LINKED_TYPE for t in service.list_event_types("acme")):
        service.create_event_type("acme", name=LINKED_TYPE, actor="test")
        service.create_action("acme", name=LINKED_ACTION, sink="log", actor="test")
        service.create_automation("acme", name="matrix-link", event_type=LINKED_TYPE,
                                  action=LINKED_ACTION, actor="test")
    return {}


def an_automation(world: World) -> dict[str, Any]:
    linked(world)
    name = _name("automation")
    world.hub.automations.create_automation("acme", name=name, event_type=LINKED_TYPE,
                                            action=LINKED_ACTION, actor="test")
    return {"name": name}


def an_event(world: World) -> dict[str, Any]:
    linked(world)
    result = world.hub.events.ingest("acme", LINKED_TYPE, {}, actor="test")
    return {"event_id": result.event_id, "execution_id": result.executions[0].id}


def a_finished_execution(world: World) -> dict[str, Any]:
    params = an_event(world)
    with transaction(world.hub.sessions) as session:
        session.execute(update(Execution).where(Execution.id == params["execution_id"])
                        .values(status="failed"))
    return params


def an_automation_body() -> dict[str, Any]:
    return {"name": _name("automation"), "event_type": LINKED_TYPE, "action": LINKED_ACTION}


ENTRIES: dict[tuple[str, str], Entry] = {
    ("GET", "/api/v1/event-types"): Entry("viewer", 200, collection=True),
    ("POST", "/api/v1/event-types"): Entry("writer", 201, collection=True,
                                           body=lambda: {"name": _name("type")}),
    ("GET", "/api/v1/event-types/{name}"): Entry("viewer", 200, an_event_type),
    ("PUT", "/api/v1/event-types/{name}"): Entry("writer", 200, an_event_type,
                                                 body=lambda: {"parameters": []}),
    ("DELETE", "/api/v1/event-types/{name}"): Entry("writer", 204, an_event_type),
    ("GET", "/api/v1/actions"): Entry("viewer", 200, collection=True),
    ("POST", "/api/v1/actions"): Entry("writer", 201, collection=True,
                                       body=lambda: {"name": _name("action"), "sink": "log"}),
    ("GET", "/api/v1/actions/{name}"): Entry("viewer", 200, an_action),
    ("PUT", "/api/v1/actions/{name}"): Entry("writer", 200, an_action,
                                             body=lambda: {"sink": "log"}),
    ("DELETE", "/api/v1/actions/{name}"): Entry("writer", 204, an_action),
    ("GET", "/api/v1/automations"): Entry("viewer", 200, collection=True),
    # Not a collection for another tenant: the event type and action it names are acme's.
    ("POST", "/api/v1/automations"): Entry("writer", 201, linked, body=an_automation_body),
    ("GET", "/api/v1/automations/{name}"): Entry("viewer", 200, an_automation),
    ("PUT", "/api/v1/automations/{name}"): Entry(
        "writer", 200, an_automation,
        body=lambda: {"event_type": LINKED_TYPE, "action": LINKED_ACTION}),
    ("DELETE", "/api/v1/automations/{name}"): Entry("writer", 204, an_automation),
    ("GET", "/api/v1/sinks"): Entry("viewer", 200, collection=True),
    ("POST", "/api/v1/events"): Entry("writer", 202, linked, ingest=True,
                                      body=lambda: {"type": LINKED_TYPE, "payload": {}}),
    ("GET", "/api/v1/events/{event_id}"): Entry("viewer", 200, an_event),
    ("GET", "/api/v1/executions"): Entry("viewer", 200, collection=True),
    ("GET", "/api/v1/executions/{execution_id}"): Entry("viewer", 200, an_event),
    ("POST", "/api/v1/executions/{execution_id}/replay"): Entry("writer", 202,
                                                                a_finished_execution),
    # About the caller's own deliveries: another tenant gets an empty list, not 404.
    ("GET", "/api/v1/secrets/{key}/usage"): Entry("viewer", 200, a_secret, collection=True),
    # No signature from anyone: 401 whoever asks (bearer tokens play no part here).
    ("POST", "/hooks/{tenant}/{event_type}"): Entry(
        None, 401, lambda _w: {"tenant": "acme", "event_type": LINKED_TYPE}),
}
