"""`/api/v1/actions`: what to do when an event matches, and with which sink.

An Action is `{name, sink, parameters, timeout?, retry?}`. The sink must be installed and
its credential fields must be `SECRET` parameters (keys, resolved at dispatch). Reading needs
the viewer role, changing the writer role; saving answers with `warnings`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hub.api.auth import HubDep, Viewer, Writer
from hub.api.automation_schemas import ActionCreate, ActionOut, ActionReplace, ActionSaved

router = APIRouter(prefix="/api/v1/actions", tags=["actions"])


@router.get("", response_model=list[ActionOut])
def list_actions(principal: Viewer, hub: HubDep) -> list[ActionOut]:
    return [ActionOut.of(info) for info in hub.automations.list_actions(principal.tenant)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ActionSaved)
def create_action(body: ActionCreate, principal: Writer, hub: HubDep,
                  response: Response) -> ActionSaved:
    saved = hub.automations.create_action(
        principal.tenant, name=body.name, sink=body.sink, parameters=body.parameter_dicts(),
        timeout=body.timeout, retry=body.retry.as_mapping() if body.retry else None,
        actor=principal.actor)
    response.headers["Location"] = f"{router.prefix}/{saved.item.name}"
    return ActionSaved.of_saved(saved)


@router.get("/{name}", response_model=ActionOut)
def show_action(name: str, principal: Viewer, hub: HubDep) -> ActionOut:
    return ActionOut.of(hub.automations.get_action(principal.tenant, name))


@router.put("/{name}", response_model=ActionSaved)
def replace_action(name: str, body: ActionReplace, principal: Writer,
                   hub: HubDep) -> ActionSaved:
    """Replace sink, parameters, timeout and retry; what the body leaves out resets."""
    body.check_name(name, what="action")
    return ActionSaved.of_saved(hub.automations.update_action(
        principal.tenant, name, sink=body.sink, parameters=body.parameter_dicts(),
        timeout=body.timeout, retry=body.retry.as_mapping() if body.retry else None,
        actor=principal.actor))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_action(name: str, principal: Writer, hub: HubDep) -> None:
    """Refused with 409 (naming them) while automations use it."""
    hub.automations.delete_action(principal.tenant, name, actor=principal.actor)
