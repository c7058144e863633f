"""`hubctl tenants create|list`: make tenants on the local database (a bootstrap command).

`create` prints the new tenant's admin token alone on the last line of standard output, so
a script can take it with `tail -n 1`; `--json` prints `{"tenant": ..., "token": ...}`. The
token is shown this once: the database keeps only its hash.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from hub.cli.local import create_tenant_with_admin, fail
from hub.config import load_settings
from hub.errors import HubError

ACTOR = "hubctl tenants"

tenants_app = typer.Typer(help="Create and list tenants (acts on the local database).",
                          no_args_is_help=True)


def _describe(tenant: Any) -> dict[str, Any]:
    umbrella = getattr(tenant, "umbrella", None)
    created_at = getattr(tenant, "created_at", None)
    return {"id": tenant.id, "name": tenant.name, "umbrella": umbrella,
            "created_at": created_at.isoformat() if created_at is not None else None}


@tenants_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The new tenant's name.")],
    umbrella: Annotated[str | None, typer.Option(
        help="An existing tenant whose secrets this one inherits.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a tenant and print its admin token (once: keep it)."""
    from hub.runtime import open_hub

    try:
        hub = open_hub(load_settings())
    except HubError as exc:
        fail(exc)
    try:
        tenant, token = create_tenant_with_admin(hub, name, umbrella=umbrella, actor=ACTOR)
    except HubError as exc:
        fail(exc)
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps({"tenant": tenant.name, "tenant_id": tenant.id,
                               "umbrella": umbrella, "token": token}))
        return
    suffix = f" under umbrella {umbrella!r}" if umbrella else ""
    typer.echo(f"Created tenant {tenant.name!r}{suffix}.")
    typer.echo("Its admin token, shown this once (the hub keeps only a hash):")
    typer.echo(token)


@tenants_app.command("list")
def list_tenants(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the tenants."""
    from hub.runtime import open_hub

    try:
        hub = open_hub(load_settings())
        try:
            tenants = [_describe(tenant) for tenant in hub.tenants.list()]
        finally:
            hub.close()
    except HubError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(tenants))
        return
    for tenant in tenants:
        umbrella = f"  (umbrella: {tenant['umbrella']})" if tenant["umbrella"] else ""
        typer.echo(f"{tenant['name']}{umbrella}")


def register(app: typer.Typer) -> None:
    """Add the `tenants` group to `app`."""
    app.add_typer(tenants_app, name="tenants")
