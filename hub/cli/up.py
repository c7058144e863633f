"""`hubctl serve` (the HTTP API under uvicorn) and `hubctl up` (the whole hub on one machine).

`up` prepares a first run (migrations, keys, a `default` tenant whose admin token it prints
once), then supervises `serve`, `dispatcher` and one `worker` as child processes: a child that
dies is started again after a backoff that doubles while it keeps failing, and Ctrl-C or
SIGTERM stops every child cleanly (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

import typer

from hub.cli.local import create_tenant_with_admin, fail
from hub.config import Settings, load_settings
from hub.errors import HubError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TENANT = "default"
PROCESSES = ("serve", "dispatcher", "worker")

#: A child that ran this long before dying is healthy again: its backoff starts over.
STABLE_SECONDS = 30.0
#: How long children get to stop after SIGTERM before they are killed.
GRACE_SECONDS = 15.0

HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")]


@dataclass
class Child:
    """One supervised process: its command and its restart state."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = 0.0
    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    """Keeps its children running until `stop` is set, then stops them all."""

    def __init__(self, children: Sequence[Child], *, stop: threading.Event,
                 first_backoff: float = 1.0, max_backoff: float = 30.0,
                 poll_seconds: float = 0.2, grace_seconds: float = GRACE_SECONDS) -> None:
        self.children = list(children)
        self.stop = stop
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds

    def run(self) -> None:
        for child in self.children:
            self._start(child)
        try:
            # Poll `is_set()` and sleep rather than `stop.wait()`: a signal handler calling
            # `stop.set()` while this thread sat inside `wait()` would try to take the lock
            # `wait()` holds, on the same thread, and hang the hub forever.
            while not self.stop.is_set():
                for child in self.children:
                    self._tend(child)
                time.sleep(self.poll_seconds)
        finally:
            self._stop_all()

    def _start(self, child: Child) -> None:
        # A session of its own: a Ctrl-C in the terminal reaches the supervisor only, which
        # then stops each child once, in order, instead of every process at the same time.
        child.process = subprocess.Popen(child.argv, start_new_session=True)  # noqa: S603
        child.started_at = time.monotonic()
        child.restart_at = None

    def _tend(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._start(child)
            return
        assert child.process is not None
        code = child.process.poll()
        if code is None:
            return
        child.exit_codes.append(code)
        ran = now - child.started_at
        child.backoff = (self.first_backoff if ran >= STABLE_SECONDS or not child.backoff
                         else min(child.backoff * 2, self.max_backoff))
        child.restart_at = now + child.backoff
        typer.echo(f"hubctl up: {child.name} exited with {code}; "
                   f"restarting in {child.backoff:g}s", err=True)

    def _stop_all(self) -> None:
        running = [c.process for c in self.children
                   if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def hubctl_argv(*args: str) -> list[str]:
    """Run `hubctl ARGS` with this interpreter, whether or not `hubctl` is on PATH."""
    return [sys.executable, "-c", "from hub.cli import main; main()", *args]


def child_commands(names: Sequence[str], *, host: str, port: int) -> list[Child]:
    commands = {
        "serve": hubctl_argv("serve", "--host", host, "--port", str(port)),
        "dispatcher": hubctl_argv("dispatcher"),
        "worker": hubctl_argv("worker", "--concurrency", "1"),
    }
    return [Child(name, commands[name]) for name in names]


def prepare_first_run(settings: Settings) -> str | None:
    """Migrate, make sure keys exist, create the `default` tenant; its new admin token or None."""
    from hub import db
    from hub.keyfiles import load_master_keyring, load_transport_keys
    from hub.runtime import open_hub

    settings.ensure_home()
    engine = db.make_engine(settings.effective_database_url)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    load_master_keyring(settings, may_generate=True)
    load_transport_keys(settings, may_generate=True)
    hub = open_hub(settings)
    try:
        if any(t.name == DEFAULT_TENANT for t in hub.tenants.list()):
            return None
        _, token = create_tenant_with_admin(hub, DEFAULT_TENANT, actor="hubctl up")
        return token
    finally:
        hub.close()


def _on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def register(app: typer.Typer) -> None:
    """Add `up` and `serve` to `app`."""

    @app.command()
    def up(
        host: HostOption = DEFAULT_HOST,
        port: PortOption = DEFAULT_PORT,
        processes: Annotated[str, typer.Option(
            hidden=True, help="Comma-separated children to run (default: all three).")
        ] = ",".join(PROCESSES),
    ) -> None:
        """Run the whole hub on this machine: API, dispatcher and a worker."""
        from hub.logging import configure_logging

        names = [name.strip() for name in processes.split(",") if name.strip()]
        unknown = sorted(set(names) - set(PROCESSES))
        if unknown:
            raise typer.BadParameter(f"unknown process {unknown[0]!r}", param_hint="--processes")
        try:
            settings = load_settings()
            configure_logging(settings)
            token = prepare_first_run(settings)
        except HubError as exc:
            fail(exc)
        url = f"http://{host}:{port}"
        typer.echo(f"Hub starting at {url} (API {url}/api/v1, docs {url}/api/v1/docs)")
        if token is not None:
            typer.echo(f"Created tenant {DEFAULT_TENANT!r}. Its admin token, shown this once:")
            typer.echo(token)
        sys.stdout.flush()
        stop = threading.Event()
        _on_signals(stop)
        Supervisor(child_commands(names, host=host, port=port), stop=stop).run()

    @app.command()
    def serve(host: HostOption = DEFAULT_HOST, port: PortOption = DEFAULT_PORT) -> None:
        """Serve the HTTP API (uvicorn)."""
        import uvicorn

        from hub.api import create_app
        from hub.logging import configure_logging

        try:
            settings = load_settings()
            configure_logging(settings)
            app = create_app(settings)
        except HubError as exc:
            fail(exc)
        # log_config=None: uvicorn's loggers keep the handlers configure_logging installed,
        # so its lines go through the scrubber like everything else.
        uvicorn.run(app, host=host, port=port, log_config=None)
