"""`hubctl db upgrade|status`: bring the configured database's schema up to the code's.

Every other hub process refuses to run on a schema that is behind (`hub.db.
require_current_schema`) and points here. Upgrading is safe to repeat: at head it does
nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub import db
from hub.cli.local import fail, local_engine
from hub.config import load_settings
from hub.errors import HubError

db_app = typer.Typer(help="Manage the database schema (acts on the local database).",
                     no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations the database lacks."""
    try:
        settings = load_settings()
        settings.ensure_home()
        with local_engine(settings) as engine:
            before = db.current_revision(engine)
            db.upgrade(engine, revision)
            after = db.current_revision(engine)
    except HubError as exc:
        fail(exc)
    if before == after:
        typer.echo(f"The database schema is already at {after}.")
    else:
        typer.echo(f"Upgraded the database schema from {before or 'empty'} to {after}.")


@db_app.command("status")
def status() -> None:
    """Say whether the schema is current; exit 1 if it is behind."""
    try:
        with local_engine(load_settings()) as engine:
            current, head = db.current_revision(engine), db.head_revision()
    except HubError as exc:
        fail(exc)
    if current == head:
        typer.echo(f"The database schema is current ({head}).")
        return
    typer.echo(f"The database schema is {current or 'empty'}, the code needs {head}: "
               "run `hubctl db upgrade`.")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `db` group to `app`."""
    app.add_typer(db_app, name="db")
