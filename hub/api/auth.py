"""Who is calling: bearer tokens, the principal they stand for, and the role each route needs.

`Authorization: Bearer sk_...` names a tenant and a role; `pk_...` is an ingest key. The
tenant comes only from the token, never from the request, so a route cannot be tricked into
another tenant. Roles are a ladder (viewer < writer < admin); an ingest key stands apart and
passes only `require_ingest`.

Routes declare what they need as a dependency:

    @router.get("/things")
    def list_things(principal: Viewer, hub: HubDep) -> ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub import metrics
from hub.errors import PermissionDenied, Unauthenticated
from hub.logging import get_scrubber
from hub.runtime import Hub
from hub.tokens import Role, TokenInfo, TokenService

#: Rank of each role on the ladder; an ingest key is on no ladder.
LADDER: dict[str, int] = {"viewer": 1, "writer": 2, "admin": 3}

#: How long this process masks a token it accepted (or issued) since it last saw it.
TOKEN_SCRUB_TTL_SECONDS = 3600.0

_bearer = HTTPBearer(auto_error=False, description="`sk_...` token or `pk_...` ingest key")


@dataclass(frozen=True)
class Principal:
    """The caller: a token, its tenant (id and name) and its role."""

    token: TokenInfo
    tenant: str

    @property
    def tenant_id(self) -> str:
        return self.token.tenant_id

    @property
    def role(self) -> Role:
        return self.token.role

    @property
    def actor(self) -> str:
        return self.token.actor


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def get_tokens(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


HubDep = Annotated[Hub, Depends(get_hub)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]


def authenticate(
    hub: HubDep,
    tokens: TokensDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal behind the request's bearer token, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        metrics.AUTH_FAILURES.inc()
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    try:
        token = tokens.authenticate(credentials.credentials)
    except Unauthenticated:
        metrics.AUTH_FAILURES.inc()
        raise
    mask_token(credentials.credentials)
    tenant = hub.tenants.get_by_id(token.tenant_id)
    return Principal(token=token, tenant=tenant.name)


def mask_token(token: str) -> None:
    """Mask a live token in this process's log lines from now on (a credential like a value).

    Seeing the same token again only extends its lifetime, which is cheap; a refused token is
    not registered, so strangers cannot fill the scrubber.
    """
    get_scrubber().add(token, label="token", ttl=TOKEN_SCRUB_TTL_SECONDS)


def require(minimum: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting `sk_` tokens whose role is `minimum` or higher."""

    def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role == "ingest":
            raise PermissionDenied("an ingest key can only post events")
        if LADDER[principal.role] < LADDER[minimum]:
            raise PermissionDenied(f"this needs the {minimum} role or higher")
        return principal

    dependency.__name__ = f"require_{minimum}"
    return dependency


def require_ingest(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """Admits ingest keys and writers or admins of the same tenant (to post events)."""
    if principal.role != "ingest" and LADDER[principal.role] < LADDER["writer"]:
        raise PermissionDenied("posting events needs an ingest key or the writer role")
    return principal


Viewer = Annotated[Principal, Depends(require("viewer"))]
Writer = Annotated[Principal, Depends(require("writer"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Ingest = Annotated[Principal, Depends(require_ingest)]
