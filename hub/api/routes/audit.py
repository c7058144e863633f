"""`GET /api/v1/audit`: the tenant's audit trail, newest first, with a chain verification.

Entries are value-free by construction (see `hub.audit`); the chain check tells whether any
entry of the tenant was altered or removed since it was written. Admins only: the trail
shows who did what, which is more than a viewer's metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hub import audit
from hub.api.auth import Admin, HubDep
from hub.api.schemas import AuditEntryOut, AuditPage, ChainCheck

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

MAX_LIMIT = 1000


@router.get("", response_model=AuditPage)
def list_audit(
    principal: Admin, hub: HubDep,
    action: Annotated[str | None, Query(max_length=100, description="e.g. secret.update")] = None,
    target: Annotated[str | None, Query(max_length=300, description="e.g. a secret key")] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after this time.")
                     ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> AuditPage:
    """The tenant's audit entries, newest first, and whether its chain is intact."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a time without a zone is read as UTC
    with hub.sessions() as session:
        entries = audit.entries(session, principal.tenant_id, action=action, target=target,
                                since=since, limit=limit)
        broken_at = audit.verify_chain(session, principal.tenant_id)
        return AuditPage(entries=[AuditEntryOut.model_validate(e) for e in entries],
                         chain=ChainCheck(ok=broken_at is None, broken_at=broken_at))
