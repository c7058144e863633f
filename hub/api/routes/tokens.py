"""`/api/v1/tokens`: an admin issues, lists and revokes the tenant's tokens and ingest keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from hub.api.auth import Admin, TokensDep, mask_token
from hub.api.schemas import TokenCreate, TokenCreated, TokenOut

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def create_token(body: TokenCreate, principal: Admin, tokens: TokensDep) -> TokenCreated:
    """Issue a token of the caller's tenant. The token is in this answer only; keep it."""
    issued = tokens.create(principal.tenant_id, body.role, description=body.description,
                           actor=principal.actor)
    mask_token(issued.token)
    return TokenCreated.of(issued.info, issued.token)


@router.get("", response_model=list[TokenOut])
def list_tokens(
    principal: Admin, tokens: TokensDep,
    include_revoked: Annotated[bool, Query(description="Also list revoked tokens.")] = False,
) -> list[TokenOut]:
    """The tenant's tokens (never the tokens themselves: only their shown prefix)."""
    return [TokenOut.of(info)
            for info in tokens.list(principal.tenant_id, include_revoked=include_revoked)]


@router.get("/{token_id}", response_model=TokenOut)
def show_token(token_id: str, principal: Admin, tokens: TokensDep) -> TokenOut:
    return TokenOut.of(tokens.get(principal.tenant_id, token_id))


@router.delete("/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, principal: Admin, tokens: TokensDep) -> TokenOut:
    """Revoke a token at once; requests made with it are refused from now on."""
    return TokenOut.of(tokens.revoke(principal.tenant_id, token_id, actor=principal.actor))
