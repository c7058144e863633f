"""`/api/v1/executions` and `/api/v1/secrets/{key}/usage`: what became of events.

An execution is one action run for one event: its status (`queued running succeeded failed
retrying dead`), its attempts, and the `key@version` of every secret each attempt received.
Replaying a finished execution queues a new attempt, resolved afresh (writer role). Usage
answers "who received API_TOKEN@3 before we rotated it?". Values never appear: only keys,
versions and scrubbed errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from hub.api.auth import HubDep, Viewer, Writer
from hub.api.automation_schemas import ExecutionDetail, ExecutionOut, SecretUsageOut
from hub.events import MAX_LISTED
from hub.executions import EXECUTION_STATUSES

router = APIRouter(prefix="/api/v1", tags=["executions"])

Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="At most this many.")]


@router.get("/executions", response_model=list[ExecutionOut])
def list_executions(
    principal: Viewer, hub: HubDep,
    status_: Annotated[str | None, Query(
        alias="status",
        description=f"Only executions in this status: {', '.join(EXECUTION_STATUSES)}.")
    ] = None,
    action: Annotated[str | None, Query(description="Only this action's executions.")] = None,
    since: Annotated[datetime | None, Query(
        description="Only executions created at or after this time (ISO 8601; "
                    "UTC if no offset is given).")] = None,
    event: Annotated[str | None, Query(description="Only this event's executions.")] = None,
    limit: Limit = 100,
) -> list[ExecutionOut]:
    """Newest first."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    records = hub.events.list_executions(principal.tenant, status=status_, action=action,
                                         since=since, event_id=event, limit=limit)
    return [ExecutionOut.of(record) for record in records]


@router.get("/executions/{execution_id}", response_model=ExecutionDetail)
def show_execution(execution_id: str, principal: Viewer, hub: HubDep) -> ExecutionDetail:
    """The execution with its attempts and the secret versions each one received."""
    return ExecutionDetail.of(hub.events.get_execution(principal.tenant, execution_id))


@router.post("/executions/{execution_id}/replay", status_code=status.HTTP_202_ACCEPTED,
             response_model=ExecutionDetail)
def replay_execution(execution_id: str, principal: Writer, hub: HubDep) -> ExecutionDetail:
    """Queue a finished execution again (409 while it is still queued or running)."""
    return ExecutionDetail.of(
        hub.events.replay(principal.tenant, execution_id, actor=principal.actor))


@router.get("/secrets/{key}/usage", response_model=list[SecretUsageOut], tags=["secrets"])
def secret_usage(key: str, principal: Viewer, hub: HubDep, limit: Limit = 100
                 ) -> list[SecretUsageOut]:
    """Which executions received which version of `key`, newest first."""
    return [SecretUsageOut.of(usage)
            for usage in hub.events.usage(principal.tenant, key, limit=limit)]
