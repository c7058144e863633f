"""`hubctl events send` and `hubctl executions`: send an event, follow what became of it.

An event that matches enabled automations starts one execution per automation; `executions
show` tells each attempt's outcome and which secret versions it received (never values), and
`executions replay` queues a finished one again, its secrets resolved afresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.client import fail, session
from hub.cli.output import AsJson, Column, key_at_version, print_json, report, say, show

events_app = typer.Typer(help="Send events.", no_args_is_help=True)
executions_app = typer.Typer(help="What became of events.", no_args_is_help=True)
BRIEF_COLUMNS: list[Column] = [("execution", "id"), ("action", "action"), ("status", "status")]
EXECUTION_COLUMNS: list[Column] = [
    ("id", "id"), ("event type", lambda r: r["event"]["type"]), ("action", "action"),
    ("status", "status"), ("attempts", "attempts"), ("created", "created_at"),
    ("error", "error")]
ATTEMPT_COLUMNS: list[Column] = [
    ("attempt", "number"), ("why", "trigger"), ("status", "status"), ("by", "actor"),
    ("secrets", lambda r: ", ".join(map(key_at_version, r["secrets"]))),
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
    event = {"type": event_type, "payload": body, "idempotency_key": idempotency_key}
    with session(ctx) as hub:
        accepted = hub.post("/events", {name: value for name, value in event.items()
                                        if value is not None})
    if as_json:
        print_json(accepted)
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
    show(detail, EXECUTION_COLUMNS, as_json=as_json)
    if detail["history"] and not as_json:
        show(detail["history"], ATTEMPT_COLUMNS, as_json=False, title="attempts")


@executions_app.command("replay")
def executions_replay(ctx: typer.Context, execution_id: str, as_json: AsJson = False) -> None:
    """Queue a finished execution again (its secrets are resolved afresh)."""
    with session(ctx) as hub:
        detail = hub.post(f"/executions/{execution_id}/replay")
    report(detail, f"Execution {execution_id} is {detail['status']} again.", as_json=as_json)
