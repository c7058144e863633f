"""`/api/v1/automations`: which action runs for which event type, and on what condition.

An Automation is `{name, event_type, action, condition?, enabled?}`; the condition is a
JMESPath expression over the payload. Reading needs the viewer role, changing the writer
role; saving answers with `warnings` (say, a secret key the linked action needs is missing).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hub.api.auth import HubDep, Viewer, Writer
from hub.api.automation_schemas import (
    AutomationCreate,
    AutomationOut,
    AutomationReplace,
    AutomationSaved,
)

router = APIRouter(prefix="/api/v1/automations", tags=["automations"])


@router.get("", response_model=list[AutomationOut])
def list_automations(principal: Viewer, hub: HubDep) -> list[AutomationOut]:
    return [AutomationOut.of(info)
            for info in hub.automations.list_automations(principal.tenant)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AutomationSaved)
def create_automation(body: AutomationCreate, principal: Writer, hub: HubDep,
                      response: Response) -> AutomationSaved:
    saved = hub.automations.create_automation(
        principal.tenant, name=body.name, event_type=body.event_type, action=body.action,
        condition=body.condition, enabled=body.enabled, actor=principal.actor)
    response.headers["Location"] = f"{router.prefix}/{saved.item.name}"
    return AutomationSaved.of_saved(saved)


@router.get("/{name}", response_model=AutomationOut)
def show_automation(name: str, principal: Viewer, hub: HubDep) -> AutomationOut:
    return AutomationOut.of(hub.automations.get_automation(principal.tenant, name))


@router.put("/{name}", response_model=AutomationSaved)
def replace_automation(name: str, body: AutomationReplace, principal: Writer,
                       hub: HubDep) -> AutomationSaved:
    """Replace the link, condition and enabled flag; what the body leaves out resets."""
    body.check_name(name, what="automation")
    return AutomationSaved.of_saved(hub.automations.update_automation(
        principal.tenant, name, event_type=body.event_type, action=body.action,
        condition=body.condition, enabled=body.enabled, actor=principal.actor))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_automation(name: str, principal: Writer, hub: HubDep) -> None:
    hub.automations.delete_automation(principal.tenant, name, actor=principal.actor)
