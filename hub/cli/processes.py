"""`hubctl worker` and `hubctl dispatcher`: the two long-running processes besides the API.

Both configure logging (with the scrubber) before anything else, so their first line is
already scrubbed. `run_dispatcher` and `worker_argv` are also what `hubctl up` uses to run
the same processes on one machine.
"""

from __future__ import annotations

import signal
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from hub import broker
from hub.config import Settings, load_settings
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.dispatch import Dispatcher
    from hub.dispatch_loop import StopSignal
    from hub.runtime import Hub


class Pool(StrEnum):
    prefork = "prefork"
    solo = "solo"
    threads = "threads"


def worker_argv(*, concurrency: int | None = None, queues: list[str] | None = None,
                pool: Pool = Pool.prefork, log_level: str = "INFO",
                hostname: str | None = None) -> list[str]:
    """Arguments for `celery worker` (after `-A workers.app`) with the hub's defaults."""
    argv = ["worker", f"--pool={pool.value}", f"--loglevel={log_level}",
            f"--queues={','.join(queues or [broker.DELIVERY_QUEUE])}",
            # Workers need no cluster chatter: it costs start-up time and broker traffic.
            "--without-mingle", "--without-gossip", "--without-heartbeat"]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    if hostname is not None:
        argv.append(f"--hostname={hostname}")
    return argv


def build_dispatcher(hub: Hub) -> Dispatcher:
    """The dispatcher wired from a hub's services, with a Celery app that sends."""
    from hub.automations.service import AutomationService
    from hub.dispatch import CelerySender, Dispatcher
    from hub.keyfiles import load_transport_keys

    settings = hub.settings
    return Dispatcher(
        hub.sessions,
        secrets=hub.secrets,
        automations=AutomationService(hub.sessions, clock=hub.clock),
        keys=load_transport_keys(settings, may_generate=broker.is_embedded(settings)),
        sender=CelerySender(broker.make_celery(settings, sender=True)),
        seal_ttl=timedelta(seconds=settings.seal_ttl_seconds),
        clock=hub.clock,
    )


class SignalFlag:
    """A stop flag a signal handler may set safely.

    Not a `threading.Event`: `Event.set()` takes the event's lock, and a handler runs in the
    main thread between two bytecodes, possibly while that same thread holds the lock inside
    `Event.wait()`, and then it waits for itself for good. Setting a plain attribute takes no
    lock; the loop polls `is_set()` between rounds that each last well under a second.
    """

    def __init__(self) -> None:
        self._set = False

    def handle(self, signum: int, frame: object) -> None:
        self._set = True

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def run_dispatcher(settings: Settings, stop: StopSignal) -> None:
    """Run the dispatcher loop until `stop` is set (by a signal, or by `hubctl up`); `stop`
    may be a `threading.Event` or a `SignalFlag`."""
    from hub.dispatch_loop import DispatchLoop, OutcomeInbox
    from hub.runtime import open_hub

    hub = open_hub(settings)
    try:
        loop = DispatchLoop(
            build_dispatcher(hub),
            OutcomeInbox(lambda: broker.outcome_connection(settings)),
            purge=hub.secrets.purge_expired,
            prune=lambda: broker.prune_processed(settings),
        )
        loop.run(stop)
    finally:
        hub.close()


def _fail(exc: HubError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add `worker` and `dispatcher` to `app`."""

    @app.command()
    def worker(
        concurrency: Annotated[int | None, typer.Option(
            "--concurrency", "-c", min=1, help="Pool processes or threads (default: CPUs).")
        ] = None,
        queues: Annotated[list[str] | None, typer.Option(
            "--queues", "-Q", help="Queues to consume (default: hub.deliveries).")] = None,
        pool: Annotated[Pool, typer.Option(help="Celery execution pool.")] = Pool.prefork,
    ) -> None:
        """Run a sink worker: it unseals deliveries and runs their sinks."""
        from hub.logging import configure_logging

        try:
            settings = load_settings()
            configure_logging(settings)
            from workers.app import app as celery_app
        except HubError as exc:
            _fail(exc)
        celery_app.worker_main(worker_argv(concurrency=concurrency, queues=queues, pool=pool,
                                           log_level=settings.log_level))

    @app.command()
    def dispatcher() -> None:
        """Run the dispatcher: send due executions, record outcomes, retry, purge."""
        from hub.logging import configure_logging

        try:
            settings = load_settings()
            configure_logging(settings)
            stop = SignalFlag()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, stop.handle)
            run_dispatcher(settings, stop)
        except HubError as exc:
            _fail(exc)
