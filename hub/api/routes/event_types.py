"""`/api/v1/event-types`: define the kinds of events a tenant accepts.

An Event Type is `{name, schema?, parameters}`; its parameters apply to every action its
events trigger (an action's parameter of the same name wins). Reading needs the viewer role,
changing the writer role. Saving answers with `warnings` the author should read (a `SECRET`
parameter naming a key that does not exist yet): the definition is saved all the same.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hub.api.auth import HubDep, Viewer, Writer
from hub.api.automation_schemas import (
    EventTypeCreate,
    EventTypeOut,
    EventTypeReplace,
    EventTypeSaved,
)

router = APIRouter(prefix="/api/v1/event-types", tags=["event types"])


@router.get("", response_model=list[EventTypeOut])
def list_event_types(principal: Viewer, hub: HubDep) -> list[EventTypeOut]:
    return [EventTypeOut.of(info) for info in hub.automations.list_event_types(principal.tenant)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventTypeSaved)
def create_event_type(body: EventTypeCreate, principal: Writer, hub: HubDep,
                      response: Response) -> EventTypeSaved:
    saved = hub.automations.create_event_type(
        principal.tenant, name=body.name, schema=body.payload_schema,
        parameters=body.parameter_dicts(), actor=principal.actor)
    response.headers["Location"] = f"{router.prefix}/{saved.item.name}"
    return EventTypeSaved.of_saved(saved)


@router.get("/{name}", response_model=EventTypeOut)
def show_event_type(name: str, principal: Viewer, hub: HubDep) -> EventTypeOut:
    return EventTypeOut.of(hub.automations.get_event_type(principal.tenant, name))


@router.put("/{name}", response_model=EventTypeSaved)
def replace_event_type(name: str, body: EventTypeReplace, principal: Writer,
                       hub: HubDep) -> EventTypeSaved:
    """Replace the schema and parameters; what the body leaves out is cleared."""
    body.check_name(name, what="event type")
    return EventTypeSaved.of_saved(hub.automations.update_event_type(
        principal.tenant, name, schema=body.payload_schema, parameters=body.parameter_dicts(),
        actor=principal.actor))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event_type(name: str, principal: Writer, hub: HubDep) -> None:
    """Refused with 409 (naming them) while automations use it."""
    hub.automations.delete_event_type(principal.tenant, name, actor=principal.actor)
