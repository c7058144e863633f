"""`/api/v1/events`: post an event; it is stored with one execution per matching automation.

`POST` answers 202 at once with the event id and its `queued` executions; the dispatcher
sends them. Writers, admins and `pk_` ingest keys may post, viewers may not. Repeating a post
with the same `idempotency_key` stores nothing new and answers with the first event.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from hub.api.auth import HubDep, Ingest, Viewer
from hub.api.automation_schemas import EventAccepted, EventIn

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=EventAccepted)
def post_event(body: EventIn, principal: Ingest, hub: HubDep) -> EventAccepted:
    """Accept an event; 422 if its type is unknown or its payload breaks the type's schema."""
    return EventAccepted.of(hub.events.ingest(
        principal.tenant, body.type, body.payload, idempotency_key=body.idempotency_key,
        actor=principal.actor))


@router.get("/{event_id}", response_model=EventAccepted)
def show_event(event_id: str, principal: Viewer, hub: HubDep) -> EventAccepted:
    """The event's executions as they stand now."""
    return EventAccepted.of(hub.events.get_event(principal.tenant, event_id))
