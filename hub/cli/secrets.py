"""`hubctl secrets`: the secrets of the token's tenant, their versions, references and usage.

A secret value is never an argument: `secrets set KEY` reads it from stdin or a hidden
prompt (or `--file PATH` for a file secret), because arguments land in shell history and in
`ps` for every user of the machine to read. No command prints a value; the hub never sends one.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.client import ApiError, fail, session
from hub.cli.output import AsJson, Column, key_at_version, report, show

secrets_app = typer.Typer(help="Secrets of the token's tenant (values never shown).",
                          no_args_is_help=True)
SECRET_COLUMNS: list[Column] = [("key", "key"), ("type", "type"), ("version", "version"),
                                ("from", "source"), ("description", "description"),
                                ("updated", "updated_at")]
VERSION_COLUMNS: list[Column] = [("version", "version"), ("state", "state"),
                                 ("origin", "origin"), ("note", "note"), ("by", "actor"),
                                 ("at", "created_at"), ("bytes", "size")]
REFERENCE_COLUMNS: list[Column] = [("tenant", "tenant"), ("kind", "owner_kind"),
                                   ("owner", "owner"), ("parameter", "parameter")]
USAGE_COLUMNS: list[Column] = [("execution", "execution"), ("attempt", "attempt"),
                               ("parameter", "parameter"), ("received", key_at_version),
                               ("inherited", "inherited"), ("at", "at")]


@secrets_app.command("list")
def secrets_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The tenant's secrets and those it inherits."""
    with session(ctx) as hub:
        show(hub.get("/secrets"), SECRET_COLUMNS, as_json=as_json)


# Extra arguments are caught rather than left to the parser, whose usage error would echo
# them: the likeliest extra argument here is a value someone typed after the key.
@secrets_app.command("set", context_settings={"allow_extra_args": True,
                                              "ignore_unknown_options": True})
def secrets_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The secret's key.")],
    file: Annotated[Path | None, typer.Option(
        "--file", exists=True, dir_okay=False, readable=True,
        help="Store this file's bytes (a file secret).")] = None,
    description: Annotated[str | None, typer.Option(help="What the secret is for.")] = None,
    note: Annotated[str | None, typer.Option(help="A note on this version.")] = None,
    as_json: AsJson = False,
) -> None:
    """Create KEY, or give it a new version. The value comes from stdin or a hidden prompt."""
    if ctx.args:
        typer.echo("error: `secrets set` takes only KEY: a value on the command line would "
                   "land in shell history and `ps`; pipe it on stdin, type it at the prompt, "
                   "or use --file", err=True)
        raise typer.Exit(2)
    if file is not None:
        value = base64.b64encode(file.read_bytes()).decode("ascii")
        kind, filename = "file", file.name
    else:
        value, kind, filename = _read_value(key), "text", None
    with session(ctx) as hub:
        created = {"key": key, "value": value, "type": kind, "note": note,
                   "description": description or "", "filename": filename}
        try:
            item = hub.post("/secrets", _without_none(created))
            verb = "Created"
        except ApiError as exc:
            if exc.status != 409:
                raise
            changed = {"value": value, "note": note, "description": description,
                       "filename": filename}
            item = hub.patch(f"/secrets/{key}", _without_none(changed))
            verb = "Updated"
    report(item, f"{verb} secret {item['key']!r}: version {item['version']}.",
           as_json=as_json)


def _read_value(key: str) -> str:
    """The value from piped stdin (one trailing newline dropped), or a hidden prompt."""
    if sys.stdin.isatty():
        value: str = typer.prompt(f"Value of {key}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read()
        value = value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")
    if not value:
        fail("the value is empty; pipe it on stdin or type it at the prompt")
    return value


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


@secrets_app.command("show")
def secrets_show(ctx: typer.Context, key: str, as_json: AsJson = False) -> None:
    """A secret's metadata and its versions."""
    with session(ctx) as hub:
        detail = hub.get(f"/secrets/{key}")
    show(detail, SECRET_COLUMNS, as_json=as_json)
    if not as_json:
        show(detail.get("versions", []), VERSION_COLUMNS, as_json=False, title="versions")


@secrets_app.command("versions")
def secrets_versions(ctx: typer.Context, key: str, as_json: AsJson = False) -> None:
    """Every version of a secret: state, origin, note, author, time."""
    with session(ctx) as hub:
        show(hub.get(f"/secrets/{key}/versions"), VERSION_COLUMNS, as_json=as_json)


@secrets_app.command("restore")
def secrets_restore(
    ctx: typer.Context,
    key: str, version: Annotated[int, typer.Argument(help="The version to bring back.")],
    note: Annotated[str | None, typer.Option(help="Why.")] = None, as_json: AsJson = False,
) -> None:
    """Make an old version's value current again (as a new version)."""
    with session(ctx) as hub:
        item = hub.post(f"/secrets/{key}/versions/{version}/restore", _without_none(
            {"note": note}))
    report(item, f"Restored {key!r} from version {version}: now version {item['version']}.",
           as_json=as_json)


@secrets_app.command("rename")
def secrets_rename(ctx: typer.Context, key: str, new_key: str, as_json: AsJson = False) -> None:
    """Give a secret a new key (refused while parameters still name the old one)."""
    with session(ctx) as hub:
        item = hub.post(f"/secrets/{key}/rename", {"new_key": new_key})
    report(item, f"Renamed {key!r} to {item['key']!r}.", as_json=as_json)


@secrets_app.command("references")
def secrets_references(ctx: typer.Context, key: str, as_json: AsJson = False) -> None:
    """Which action and event type parameters name this key."""
    with session(ctx) as hub:
        show(hub.get(f"/secrets/{key}/references"), REFERENCE_COLUMNS, as_json=as_json)


@secrets_app.command("delete")
def secrets_delete(
    ctx: typer.Context,
    key: str,
    force: Annotated[bool, typer.Option(help="Delete even though parameters name it.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Only say what would happen.")] = False,
    as_json: AsJson = False,
) -> None:
    """Delete a secret; refused while parameters name it, unless --force."""
    with session(ctx) as hub:
        try:
            result = hub.delete(f"/secrets/{key}", force=force or None,
                                dry_run=dry_run or None)
        except ApiError as exc:
            if exc.status == 409 and exc.problem.get("references"):
                used = ", ".join(f"{r.get('owner_kind')} {r.get('owner')!r}.{r.get('parameter')}"
                                 for r in exc.problem["references"])
                raise ApiError(f"{key!r} is still used by {used}; change those first, or "
                               "delete with --force") from None
            raise
    verb = "Would delete" if result.get("dry_run") else "Deleted"
    until = result.get("recoverable_until")
    report(result, f"{verb} {key!r}" + (f" (recoverable until {until})." if until else "."),
           as_json=as_json)
    if result.get("references") and not as_json:
        show(result["references"], REFERENCE_COLUMNS, as_json=False,
             title="parameters left naming a missing key")


@secrets_app.command("usage")
def secrets_usage(
    ctx: typer.Context,
    key: str, limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: AsJson = False,
) -> None:
    """Which executions received which version of KEY, newest first."""
    with session(ctx) as hub:
        show(hub.get(f"/secrets/{key}/usage", limit=limit), USAGE_COLUMNS, as_json=as_json)
