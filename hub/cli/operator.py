"""`hubctl` operator commands: secrets, tokens, definitions, events, executions, sinks, demo.

They talk to a running hub over its HTTP API (`HUB_URL`, `HUB_TOKEN`; see `hub.cli.client`),
as the holder of that token: the hub decides what the token may do. Output is a readable
table, or JSON with `--json` for scripts. An error is one line on stderr and exit code 1.

A secret value is never an argument: `secrets set KEY` reads it from stdin or a hidden
prompt (or `--file PATH` for a file secret), because arguments land in shell history and in
`ps` for every user of the machine to read.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.client import ApiError, HubClient, fail, session

Column = tuple[str, str | Callable[[dict[str, Any]], Any]]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]

DEMO_KEY = "demo-greeting"
DEMO_EVENT_TYPE = "demo.order"
DEMO_ACTION = "demo-log"
DEMO_AUTOMATION = "demo-orders"


# -- output --------------------------------------------------------------------------------------


def show(data: Any, columns: Sequence[Column], *, as_json: bool, title: str | None = None
         ) -> None:
    """`data` (a dict or a list of dicts) as a table, or as JSON."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    rows = data if isinstance(data, list) else [data]
    table = Table(title=title, show_lines=False, header_style="bold")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row, getter) for _, getter in columns))
    console = Console()
    if not console.is_terminal:
        # Piped into a file or grep: never fold an id across lines to fit 80 columns.
        console = Console(width=10_000)
    console.print(table)


def _cell(row: dict[str, Any], getter: str | Callable[[dict[str, Any]], Any]) -> str:
    value = getter(row) if callable(getter) else row.get(getter)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def say(message: str) -> None:
    typer.echo(message)


def warn_all(warnings: Sequence[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


# -- secrets -------------------------------------------------------------------------------------

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
    if as_json:
        show(item, [], as_json=True)
    else:
        say(f"{verb} secret {item['key']!r}: version {item['version']}.")


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
    if as_json:
        show(detail, [], as_json=True)
        return
    show(detail, SECRET_COLUMNS, as_json=False)
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
    if as_json:
        show(item, [], as_json=True)
    else:
        say(f"Restored {key!r} from version {version}: now version {item['version']}.")


@secrets_app.command("rename")
def secrets_rename(ctx: typer.Context, key: str, new_key: str, as_json: AsJson = False) -> None:
    """Give a secret a new key (refused while parameters still name the old one)."""
    with session(ctx) as hub:
        item = hub.post(f"/secrets/{key}/rename", {"new_key": new_key})
    if as_json:
        show(item, [], as_json=True)
    else:
        say(f"Renamed {key!r} to {item['key']!r}.")


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
    if as_json:
        show(result, [], as_json=True)
        return
    verb = "Would delete" if result.get("dry_run") else "Deleted"
    until = result.get("recoverable_until")
    say(f"{verb} {key!r}" + (f" (recoverable until {until})." if until else "."))
    if result.get("references"):
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
        show(hub.get(f"/secrets/{key}/usage", limit=limit),
             [("execution", "execution"), ("attempt", "attempt"), ("parameter", "parameter"),
              ("received", lambda r: f"{r['key']}@{r['version']}"),
              ("inherited", "inherited"), ("at", "at")], as_json=as_json)


# -- tokens --------------------------------------------------------------------------------------

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
        show(created, [], as_json=True)
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
    if as_json:
        show(revoked, [], as_json=True)
    else:
        say(f"Revoked token {token_id}.")


# -- event types, actions, automations -----------------------------------------------------------


def _parameters(row: dict[str, Any]) -> str:
    return ", ".join(f"{p['name']}:{p['type']}" + (f"={p['value']}" if p["type"] == "SECRET"
                                                   else "")
                     for p in row.get("parameters", [])) or "-"


def definition_app(noun: str, path: str, columns: Sequence[Column]) -> typer.Typer:
    """list/show/apply/delete for one kind of definition under `/api/v1/{path}`."""
    app = typer.Typer(help=f"{noun.capitalize()}s of the token's tenant.", no_args_is_help=True)

    @app.command("list")
    def list_(ctx: typer.Context, as_json: AsJson = False) -> None:
        with session(ctx) as hub:
            show(hub.get(f"/{path}"), columns, as_json=as_json)

    @app.command("show")
    def show_(ctx: typer.Context, name: str, as_json: AsJson = False) -> None:
        with session(ctx) as hub:
            item = hub.get(f"/{path}/{name}")
        show(item, columns, as_json=as_json)

    @app.command("apply")
    def apply(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                             help="JSON or YAML: one definition or a list.")],
        as_json: AsJson = False,
    ) -> None:
        """Create or replace each definition in FILE."""
        documents = load_documents(file)
        with session(ctx) as hub:
            applied = [apply_one(hub, path, document) for document in documents]
        if as_json:
            show([item for _, item in applied], [], as_json=True)
            return
        for verb, item in applied:
            say(f"{verb} {noun} {item['name']!r}.")
            warn_all(item.get("warnings", []))

    @app.command("delete")
    def delete(ctx: typer.Context, name: str) -> None:
        with session(ctx) as hub:
            hub.delete(f"/{path}/{name}")
        say(f"Deleted {noun} {name!r}.")

    return app


def load_documents(file: Path) -> list[dict[str, Any]]:
    """The definitions in a JSON or YAML file: one object or a list of them."""
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            import yaml
        except ImportError:
            fail(f"{file} is not JSON, and reading YAML needs PyYAML (pip install pyyaml)")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            fail(f"{file} is neither JSON nor YAML ({type(exc).__name__})")
    documents = data if isinstance(data, list) else [data]
    if not documents or not all(isinstance(d, dict) and isinstance(d.get("name"), str)
                                for d in documents):
        fail(f"{file} must hold an object with a `name`, or a list of them")
    return documents


def apply_one(hub: HubClient, path: str, document: dict[str, Any]) -> tuple[str, Any]:
    """Replace the definition if it exists, else create it: ("Replaced" | "Created", saved).

    Existence is asked first: a 404 from PUT could also mean a definition it names is missing.
    """
    try:
        hub.get(f"/{path}/{document['name']}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return "Created", hub.post(f"/{path}", document)
    return "Replaced", hub.put(f"/{path}/{document['name']}", document)


event_types_app = definition_app("event type", "event-types", [
    ("name", "name"), ("parameters", _parameters),
    ("schema", lambda r: "yes" if r.get("schema") is not None else "-"),
    ("updated", "updated_at")])
actions_app = definition_app("action", "actions", [
    ("name", "name"), ("sink", "sink"), ("parameters", _parameters), ("timeout", "timeout"),
    ("retry", lambda r: f"{r['retry']['attempts']} tries, {r['retry']['backoff']:g}s backoff"),
    ("updated", "updated_at")])
automations_app = definition_app("automation", "automations", [
    ("name", "name"), ("event type", "event_type"), ("action", "action"),
    ("condition", "condition"), ("enabled", "enabled"), ("updated", "updated_at")])


# -- events, executions, sinks -------------------------------------------------------------------

events_app = typer.Typer(help="Send events.", no_args_is_help=True)
executions_app = typer.Typer(help="What became of events.", no_args_is_help=True)
sinks_app = typer.Typer(help="Installed sinks.", no_args_is_help=True)
BRIEF_COLUMNS: list[Column] = [("execution", "id"), ("action", "action"), ("status", "status")]
EXECUTION_COLUMNS: list[Column] = [
    ("id", "id"), ("event type", lambda r: r["event"]["type"]), ("action", "action"),
    ("status", "status"), ("attempts", "attempts"), ("created", "created_at"),
    ("error", "error")]
ATTEMPT_COLUMNS: list[Column] = [
    ("attempt", "number"), ("why", "trigger"), ("status", "status"), ("by", "actor"),
    ("secrets", lambda r: ", ".join(f"{s['key']}@{s['version']}" for s in r["secrets"])),
    ("finished", "finished_at"), ("error", "error")]


@events_app.command("send")
def events_send(
    ctx: typer.Context,
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="The event type.")],
    payload: Annotated[str | None, typer.Option(help="The payload as JSON text.")] = None,
    payload_file: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True, help="Read the JSON payload from F.")
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option(
        help="Sending again with the same key returns the first event.")] = None,
    as_json: AsJson = False,
) -> None:
    """Post an event of TYPE; prints the event id and the executions it started."""
    if payload is not None and payload_file is not None:
        fail("give --payload or --payload-file, not both")
    text = payload_file.read_text(encoding="utf-8") if payload_file else payload or "{}"
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        fail("the payload is not valid JSON")
    with session(ctx) as hub:
        accepted = hub.post("/events", _without_none(
            {"type": event_type, "payload": body, "idempotency_key": idempotency_key}))
    if as_json:
        show(accepted, [], as_json=True)
        return
    again = " (already received: this is the first event with that key)" \
        if accepted["duplicate"] else ""
    say(f"Event {accepted['id']} accepted{again}.")
    if accepted["executions"]:
        show(accepted["executions"], BRIEF_COLUMNS, as_json=False)
    else:
        say("No enabled automation matched it.")


@executions_app.command("list")
def executions_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(
        help="queued, running, succeeded, failed, retrying or dead.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 time, e.g. 2030-01-31T12:00Z.")
                     ] = None,
    event: Annotated[str | None, typer.Option(help="Only this event's executions.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: AsJson = False,
) -> None:
    """Executions, newest first."""
    with session(ctx) as hub:
        show(hub.get("/executions", status=status, action=action, since=since, event=event,
                     limit=limit), EXECUTION_COLUMNS, as_json=as_json)


@executions_app.command("show")
def executions_show(ctx: typer.Context, execution_id: str, as_json: AsJson = False) -> None:
    """One execution, its attempts, and the secret versions each received."""
    with session(ctx) as hub:
        detail = hub.get(f"/executions/{execution_id}")
    if as_json:
        show(detail, [], as_json=True)
        return
    show(detail, EXECUTION_COLUMNS, as_json=False)
    if detail["history"]:
        show(detail["history"], ATTEMPT_COLUMNS, as_json=False, title="attempts")


@executions_app.command("replay")
def executions_replay(ctx: typer.Context, execution_id: str, as_json: AsJson = False) -> None:
    """Queue a finished execution again (its secrets are resolved afresh)."""
    with session(ctx) as hub:
        detail = hub.post(f"/executions/{execution_id}/replay")
    if as_json:
        show(detail, [], as_json=True)
    else:
        say(f"Execution {execution_id} is {detail['status']} again.")


@sinks_app.command("list")
def sinks_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Installed sinks, their parameters, and which parameters are credentials."""
    with session(ctx) as hub:
        show(hub.get("/sinks"), [
            ("sink", "name"), ("description", "description"),
            ("parameters", lambda r: ", ".join(r["parameters"].get("properties", {}))),
            ("credentials (SECRET)", lambda r: ", ".join(r["credentials"]) or "-")],
            as_json=as_json)


# -- demo ----------------------------------------------------------------------------------------


def demo(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option(
        min=0, help="Seconds to wait for the delivery (needs a dispatcher and a worker).")
    ] = 10.0,
) -> None:
    """Set up a small demo in the token's tenant and send one event through it."""
    with session(ctx) as hub:
        _demo_secret(hub)
        for path, document in _demo_definitions():
            verb, saved = apply_one(hub, path, document)
            say(f"{verb} {path[:-1].replace('-', ' ')} {saved['name']!r}.")
        accepted = hub.post("/events", {"type": DEMO_EVENT_TYPE,
                                        "payload": {"order": 1001, "total": 42.5}})
        say(f"Sent a {DEMO_EVENT_TYPE!r} event: {accepted['id']}.")
        for brief in accepted["executions"]:
            detail = _await_finish(hub, brief["id"], wait)
            received = ", ".join(f"{s['key']}@{s['version']}" for s in detail["secrets"])
            say(f"Execution {detail['id']} ({detail['action']}): {detail['status']}"
                + (f", received {received}" if received else "")
                + (f": {detail['error']}" if detail.get("error") else "") + ".")
        say("See them with `hubctl executions list`; the log sink's line shows the secret "
            "masked by the scrubber.")


def _demo_secret(hub: HubClient) -> None:
    import secrets

    value = "demo greeting " + secrets.token_hex(8)
    try:
        created = hub.post("/secrets", {"key": DEMO_KEY, "value": value,
                                        "description": "made by hubctl demo"})
        say(f"Created secret {DEMO_KEY!r} (version {created['version']}).")
    except ApiError as exc:
        if exc.status != 409:
            raise
        say(f"Secret {DEMO_KEY!r} exists already; using it.")


def _demo_definitions() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("event-types", {"name": DEMO_EVENT_TYPE, "parameters": [],
                         "schema": {"type": "object", "required": ["order"],
                                    "properties": {"order": {"type": "integer"}}}}),
        ("actions", {"name": DEMO_ACTION, "sink": "log", "parameters": [
            {"name": "message", "type": "SECRET", "value": DEMO_KEY},
            {"name": "level", "type": "STRING", "value": "INFO"}]}),
        ("automations", {"name": DEMO_AUTOMATION, "event_type": DEMO_EVENT_TYPE,
                         "action": DEMO_ACTION, "enabled": True}),
    ]


def _await_finish(hub: HubClient, execution_id: str, wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        detail: dict[str, Any] = hub.get(f"/executions/{execution_id}")
        if detail["status"] in ("succeeded", "failed", "dead") or time.monotonic() >= deadline:
            return detail
        time.sleep(0.25)


def register(app: typer.Typer) -> None:
    """Add the operator command groups and `demo` to `app`."""
    app.add_typer(secrets_app, name="secrets")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(event_types_app, name="event-types")
    app.add_typer(actions_app, name="actions")
    app.add_typer(automations_app, name="automations")
    app.add_typer(events_app, name="events")
    app.add_typer(executions_app, name="executions")
    app.add_typer(sinks_app, name="sinks")
    app.command("demo")(demo)
