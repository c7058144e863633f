"""`hubctl`: the hub's command line. Composes the services; each command group is a module.

Bootstrap commands (`db`, `keys`, `tenants create`, `up`, `serve`, `worker`, `dispatcher`) act
locally on the configured database; operator commands (`secrets`, `actions`, ...) talk to a
running hub over its HTTP API (`HUB_URL`, `HUB_TOKEN`), like other hub CLIs do.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="hubctl",
    help="Run and operate the Hub: automations with secret injection.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks could show locals; keep them plain and scrubbed
)

# Each module exposes `register(app)`; the order is the order of `hubctl --help`.
COMMAND_MODULES = ("up", "processes", "db", "keys", "tenants", "operator")

for _name in COMMAND_MODULES:
    importlib.import_module(f"hub.cli.{_name}").register(app)


def main() -> None:
    app()
