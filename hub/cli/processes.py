"""`hubctl worker` and `hubctl dispatcher`: the two long-running processes besides the API.

Both configure logging (with the scrubber) before anything else, so their first line is
already scrubbed. `run_dispatcher` and `worker_argv` are also what `hubctl up` uses to run
the same processes on one machine.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from hub import broker
from hub.config import Settings, load_settings
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.dispatch import Dispatcher
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
        sender=CelerySender(broker.make_celery(settings)),
        seal_ttl=timedelta(seconds=settings.seal_ttl_seconds),
        clock=hub.clock,
    )


def run_dispatcher(settings: Settings, stop: threading.Event) -> None:
    """Run the dispatcher loop until `stop` is set (by a signal, or by `hubctl up`)."""
    from hub.dispatch_loop import DispatchLoop, OutcomeInbox
    from hub.runtime import open_hub

    hub = open_hub(settings)
    try:
        loop = DispatchLoop(
            build_dispatcher(hub),
            OutcomeInbox(lambda: broker.connection(settings)),
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
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            run_dispatcher(settings, stop)
        except HubError as exc:
            _fail(exc)
