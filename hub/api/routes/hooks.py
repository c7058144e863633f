"""`POST /hooks/{tenant}/{event_type}`: signed inbound webhooks (no bearer token).

The raw body is verified against `X-Hub-Signature-256` before anything parses it (see
`hub.hooks`); a wrong or missing signature is 401 and nothing is stored. A right one is
ingested like `POST /api/v1/events` and answers the same 202 document. An optional
`Idempotency-Key` header makes a sender's redelivery safe.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.concurrency import run_in_threadpool

from hub.api.auth import HubDep
from hub.api.automation_schemas import EventAccepted
from hub.api.problems import MEDIA_TYPE
from hub.hooks import SIGNATURE_HEADER, HookReceiver

router = APIRouter(prefix="/hooks", tags=["hooks"])


@router.post(
    "/{tenant}/{event_type}", status_code=status.HTTP_202_ACCEPTED, response_model=EventAccepted,
    responses={401: {"description": "The signature is missing or wrong; nothing was stored.",
                     "content": {MEDIA_TYPE: {}}}},
    openapi_extra={"requestBody": {"required": True, "description": "The JSON payload, signed.",
                                   "content": {"application/json": {"schema": {}}}}},
)
async def receive_hook(
    tenant: str, event_type: str, request: Request, hub: HubDep,
    signature: Annotated[str | None, Header(
        alias=SIGNATURE_HEADER, description="sha256=<hex HMAC-SHA256 of the raw body>")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> EventAccepted:
    """Accept an event signed with the event type's `signing_secret`."""
    body = await request.body()
    receiver = HookReceiver(hub)
    # The store and the database are synchronous: keep them off the event loop.
    result = await run_in_threadpool(receiver.receive, tenant, event_type, body, signature,
                                     idempotency_key=idempotency_key)
    return EventAccepted.of(result)
