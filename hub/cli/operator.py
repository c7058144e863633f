"""`hubctl` operator commands: secrets, tokens, definitions, events, executions, sinks, demo.

They talk to a running hub over its HTTP API (`HUB_URL`, `HUB_TOKEN`; see `hub.cli.client`),
as the holder of that token: the hub decides what the token may do. Output is a readable
table, or JSON with `--json` for scripts (`hub.cli.output`). An error is one line on stderr
and exit code 1.

Each group lives in the module of its concept; this one puts them on `hubctl`, in the order
`hubctl --help` lists them.
"""

from __future__ import annotations

import typer

from hub.cli.definitions import actions_app, automations_app, event_types_app, sinks_app
from hub.cli.demo import demo
from hub.cli.events import events_app, executions_app
from hub.cli.secrets import secrets_app
from hub.cli.tokens import tokens_app


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
