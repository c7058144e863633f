"""`hubctl keys generate|status|rotate`: the master key ring (a bootstrap command, local).

`rotate` runs online while the hub serves (see `hub.secrets.rotation`):
1. a new key becomes primary, the old one stays to read; the ring is saved to the key file,
   or, when it comes from `HUB_MASTER_KEY`, printed once for the operator to deploy, after
   which `hubctl keys rotate --rewrap-only` (with the new value set) goes on;
2. every data key is re-wrapped under the new primary, batch by batch, with a progress bar;
   interrupted, it is simply run again (`--rewrap-only`);
3. old keys that nothing uses any more are retired and dropped from the ring. Restart the
   hub's processes after a rotation: one still on the old ring is refused writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.cli.local import fail, local_engine
from hub.config import Settings, load_settings
from hub.crypto import KeyRing
from hub.errors import HubError
from hub.keyfiles import master_key_source, save_master_keyring
from hub.sealing import TransportKeys
from hub.secrets import rotation
from hub.secrets.keyring_checks import open_keyring, verify_or_record_check

ENV_SOURCE = "HUB_MASTER_KEY"

keys_app = typer.Typer(help="Manage the master key ring (acts on the local database).",
                       no_args_is_help=True)


@keys_app.command("generate")
def generate(
    key_id: Annotated[str | None, typer.Option("--id", help="The key's id.")] = None,
    transport: Annotated[bool, typer.Option(
        "--transport", help="A transport key (HUB_TRANSPORT_KEY) instead of a master key.")
    ] = False,
) -> None:
    """Print a new random key entry, `id:base64url`, for HUB_MASTER_KEY (or the transport)."""
    ring_type = TransportKeys if transport else KeyRing
    try:
        key = ring_type.generate(key_id)
    except HubError as exc:
        fail(exc)
    typer.echo(ring_type([key]).serialize())
    typer.echo("Keep it secret and backed up: losing it loses every secret.", err=True)


@keys_app.command("status")
def status() -> None:
    """Show the ring's keys, which is primary, and how many stored values each wraps."""
    try:
        settings = load_settings()
        with local_engine(settings, current_schema=True) as engine:
            ring = open_keyring(engine, settings)
            with db.make_sessionmaker(engine)() as session:
                usage = rotation.key_usage(session)
    except HubError as exc:
        fail(exc)
    typer.echo(f"Master key ring from {master_key_source(settings)}:")
    for key_id in ring.ids:
        role = "primary" if key_id == ring.primary_id else "fallback"
        typer.echo(f"  {key_id}  {role:8}  wraps {usage.get(key_id, 0)} value(s)")


@keys_app.command("rotate")
def rotate(
    rewrap_only: Annotated[bool, typer.Option(
        "--rewrap-only", help="Do not add a key: re-wrap under the current primary and "
        "retire unused keys (to resume, or after deploying a new HUB_MASTER_KEY).")] = False,
    keep_old: Annotated[bool, typer.Option(
        "--keep-old", help="Keep the old keys in the ring after re-wrapping.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
) -> None:
    """Rotate the master key online: new primary, re-wrap every data key, retire old keys."""
    try:
        settings = load_settings()
        with local_engine(settings, current_schema=True) as engine:
            _rotate(settings, engine, rewrap_only=rewrap_only, keep_old=keep_old,
                    batch_size=batch_size)
    except HubError as exc:
        fail(exc)


def _rotate(settings: Settings, engine: Engine, *, rewrap_only: bool, keep_old: bool,
            batch_size: int) -> None:
    sessions = db.make_sessionmaker(engine)
    ring = open_keyring(engine, settings)
    from_env = master_key_source(settings) == ENV_SOURCE
    if not rewrap_only:
        ring = ring.with_primary(KeyRing.generate())
        with db.transaction(sessions) as session:
            verify_or_record_check(session, ring, ring.primary_id)
        if from_env:
            typer.echo("The master key ring comes from HUB_MASTER_KEY. Set it to this new "
                       "value (shown once) on every hub process, restart them, then run "
                       "`hubctl keys rotate --rewrap-only`:", err=True)
            typer.echo(ring.serialize())
            return
        path = save_master_keyring(settings, ring)
        typer.echo(f"New primary master key {ring.primary_id} saved in {path}; "
                   "the old key stays to read until nothing uses it.")
    total = rotation.pending(sessions, ring)
    with Progress(TextColumn("Re-wrapping data keys"), BarColumn(), MofNCompleteColumn(),
                  transient=False) as bar:
        task = bar.add_task("rewrap", total=total)
        done = rotation.rewrap(sessions, ring, batch_size=batch_size,
                               progress=lambda n: bar.advance(task, n))
    typer.echo(f"Re-wrapped {done} data key(s) under {ring.primary_id}.")
    if keep_old:
        return
    _retire_unused(settings, sessions, ring, from_env=from_env)


def _retire_unused(settings: Settings, sessions: sessionmaker[Session], ring: KeyRing,
                   *, from_env: bool) -> None:
    retired, kept = [], []
    for key_id in ring.ids[1:]:
        if rotation.retire(sessions, ring, key_id, now=datetime.now(UTC)):
            retired.append(key_id)
            ring = ring.without(key_id)
        else:
            kept.append(key_id)
    if kept:
        typer.echo(f"Still in use, kept: {', '.join(kept)} (a process on the old key ring "
                   "wrote meanwhile: restart it and run `hubctl keys rotate --rewrap-only`).")
    if not retired:
        return
    if from_env:
        typer.echo(f"Retired {', '.join(retired)}. Set HUB_MASTER_KEY to this value (shown "
                   "once) and restart the hub's processes:", err=True)
        typer.echo(ring.serialize())
        return
    path = save_master_keyring(settings, ring)
    typer.echo(f"Retired {', '.join(retired)} and removed it from {path}. Restart the hub's "
               "processes so they load the new ring.")


def register(app: typer.Typer) -> None:
    """Add the `keys` group to `app`."""
    app.add_typer(keys_app, name="keys")

