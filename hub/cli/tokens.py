"""`hubctl tokens`: issue, list and revoke the API tokens and ingest keys of the tenant.

A token is shown once, when it is issued, alone on the last line so a script can take it
with `tail -n 1`; the hub keeps only its hash, so no later command can show it again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.client import session
from hub.cli.output import AsJson, Column, print_json, report, say, show

tokens_app = typer.Typer(help="API tokens and ingest keys of the tenant (admin).",
                         no_args_is_help=True)
TOKEN_COLUMNS: list[Column] = [("id", "id"), ("role", "role"), ("prefix", "prefix"),
                               ("description", "description"), ("created", "created_at"),
                               ("last used", "last_used_at"), ("revoked", "revoked_at")]


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="viewer, writer, admin, or ingest (a pk_ key).")],
    description: Annotated[str, typer.Option(help="Who or what will use it.")] = "",
    as_json: AsJson = False,
) -> None:
    """Issue a token; it is printed this once (alone on the last line)."""
    with session(ctx) as hub:
        created = hub.post("/tokens", {"role": role, "description": description})
    if as_json:
        print_json(created)
        return
    say(f"Created {created['role']} token {created['id']}. Shown this once, keep it:")
    say(created["token"])


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    include_revoked: Annotated[bool, typer.Option("--all", help="Also revoked ones.")] = False,
    as_json: AsJson = False,
) -> None:
    with session(ctx) as hub:
        show(hub.get("/tokens", include_revoked=include_revoked or None), TOKEN_COLUMNS,
             as_json=as_json)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: str, as_json: AsJson = False) -> None:
    """Revoke a token at once."""
    with session(ctx) as hub:
        revoked = hub.delete(f"/tokens/{token_id}")
    report(revoked, f"Revoked token {token_id}.", as_json=as_json)
