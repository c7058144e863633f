"""How the operator commands print: a readable table, or JSON with `--json` for scripts.

Every operator command takes `--json` (`AsJson`). A command that lists or shows prints its
data through `show`; one that changes something prints the saved item as JSON, or a sentence
(`report`). Warnings go to stderr so that stdout stays the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

Column = tuple[str, str | Callable[[dict[str, Any]], Any]]
"""A table column: its header, and the row's field or a function of the row."""

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


def show(data: Any, columns: Sequence[Column], *, as_json: bool, title: str | None = None
         ) -> None:
    """`data` (a dict or a list of dicts) as a table, or as JSON."""
    if as_json:
        print_json(data)
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


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def report(data: Any, sentence: str, *, as_json: bool) -> None:
    """The outcome of a change: the hub's answer as JSON, or one sentence for a person."""
    if as_json:
        print_json(data)
    else:
        say(sentence)


def say(message: str) -> None:
    typer.echo(message)


def warn_all(warnings: Sequence[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def key_at_version(use: Mapping[str, Any]) -> str:
    """Which secret version a delivery received, as `key@version`."""
    return f"{use['key']}@{use['version']}"
