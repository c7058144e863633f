"""`hubctl event-types | actions | automations | sinks`: the definitions that route events.

The three kinds of definition share one shape of command group (`definition_app`): list,
show, delete, and `apply FILE`, which creates or replaces each definition a JSON or YAML file
holds, so that a tenant's definitions can live in version control. `sinks list` shows what an
action can deliver to, and which sink parameters are credentials (to be given as SECRET).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.client import ApiError, HubClient, fail, session
from hub.cli.output import AsJson, Column, print_json, say, show, warn_all


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
            print_json([item for _, item in applied])
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


def _parameters(row: dict[str, Any]) -> str:
    return ", ".join(f"{p['name']}:{p['type']}" + (f"={p['value']}" if p["type"] == "SECRET"
                                                   else "")
                     for p in row.get("parameters", [])) or "-"


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

sinks_app = typer.Typer(help="Installed sinks.", no_args_is_help=True)
SINK_COLUMNS: list[Column] = [
    ("sink", "name"), ("description", "description"),
    ("parameters", lambda r: ", ".join(r["parameters"].get("properties", {}))),
    ("credentials (SECRET)", lambda r: ", ".join(r["credentials"]) or "-")]


@sinks_app.command("list")
def sinks_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Installed sinks, their parameters, and which parameters are credentials."""
    with session(ctx) as hub:
        show(hub.get("/sinks"), SINK_COLUMNS, as_json=as_json)
