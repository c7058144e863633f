"""Where the hub's messages travel: the broker, its options, and the Celery app that sends.

Two brokers, one contract. With `HUB_BROKER_URL` unset the broker is embedded: kombu's
filesystem transport in `HUB_HOME/broker/`, which needs no server, so `hubctl up` works on one
machine. With `HUB_BROKER_URL=redis://...` it is Redis. The hub side (dispatcher) and the worker
side both build their Celery configuration here, so they can never disagree on a folder, a
queue name or a visibility timeout; this module depends on nothing of ours but `hub.config`.

Two queues: `hub.deliveries` carries sealed deliveries to the workers (the Celery task
`hub.deliver`), `hub.outcomes` carries value-free outcome messages back to the dispatcher
(plain kombu messages, acknowledged after the dispatcher has committed them).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from celery import Celery
from kombu import Connection, Exchange, Queue

from hub.config import Settings
from hub.errors import ConfigurationError

DELIVERY_TASK = "hub.deliver"
DELIVERY_QUEUE = "hub.deliveries"
OUTCOME_QUEUE = "hub.outcomes"

#: The longest an action may run; the hard time limit of any one task is capped here.
MAX_TASK_SECONDS = 3600
#: Redis redelivers an unacknowledged message after this long. It must exceed the longest
#: task, or a slow delivery would be handed to a second worker while the first still runs.
VISIBILITY_TIMEOUT = MAX_TASK_SECONDS + 300
#: Seconds past a delivery's own timeout before Celery's soft limit raises in the task, and
#: before its hard limit kills the pool process (backstops for a sink that ignores the timeout).
SOFT_LIMIT_MARGIN = 2.0
HARD_LIMIT_MARGIN = 15.0


def task_time_limits(timeout: float) -> tuple[float, float]:
    """`(soft, hard)` Celery time limits for a delivery whose action allows `timeout` seconds.

    The dispatcher sets them on each message; the worker uses the hard one to know how long
    a delivery's values can still be in use in its process.
    """
    timeout = min(float(timeout), float(MAX_TASK_SECONDS))
    return timeout + SOFT_LIMIT_MARGIN, timeout + HARD_LIMIT_MARGIN

#: kombu transport options a Redis URL may carry in its query string (e.g. a key prefix
#: that keeps two hubs, or two test runs, apart on one Redis).
_URL_OPTIONS = {"global_keyprefix": str, "visibility_timeout": float}

outcome_exchange = Exchange(OUTCOME_QUEUE, type="direct", durable=True)
outcome_queue = Queue(OUTCOME_QUEUE, outcome_exchange, routing_key=OUTCOME_QUEUE, durable=True)


def is_embedded(settings: Settings) -> bool:
    """True when no broker server is configured and the filesystem transport is used."""
    return not settings.broker_url


def broker_folder(settings: Settings) -> Path:
    """The embedded broker's folder inside `HUB_HOME`."""
    return (settings.home / "broker").resolve()


def broker_url(settings: Settings) -> str:
    """The URL kombu connects to, without the options this module moves into the transport."""
    if is_embedded(settings):
        return "filesystem://"
    assert settings.broker_url is not None
    parts = urlsplit(settings.broker_url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigurationError(
            "HUB_BROKER_URL: only redis:// and rediss:// are supported "
            "(leave it unset for the embedded broker)"
        )
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _URL_OPTIONS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def transport_options(settings: Settings) -> dict[str, Any]:
    """kombu transport options for the configured broker."""
    if is_embedded(settings):
        folder = broker_folder(settings)
        messages = folder / "messages"
        return {
            "data_folder_in": str(messages),
            "data_folder_out": str(messages),
            "control_folder": str(folder / "control"),
            # Processed files are renamed here (atomic on one filesystem, so two consumers
            # never take the same message) and pruned by the dispatcher.
            "store_processed": True,
            "processed_folder": str(folder / "processed"),
            "polling_interval": 0.05,
        }
    assert settings.broker_url is not None
    options: dict[str, Any] = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "retry_on_timeout": True,
        "health_check_interval": 25,
    }
    for key, value in parse_qsl(urlsplit(settings.broker_url).query):
        if key in _URL_OPTIONS:
            options[key] = _URL_OPTIONS[key](value)
    return options


def prepare(settings: Settings) -> None:
    """Create the embedded broker's folders (private to this user); nothing for Redis."""
    if not is_embedded(settings):
        return
    settings.ensure_home()
    options = transport_options(settings)
    for key in ("data_folder_in", "control_folder", "processed_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True, mode=0o700)


def connection(settings: Settings) -> Connection:
    """A kombu connection to the broker (lazy: nothing is opened until first use)."""
    prepare(settings)
    return Connection(broker_url(settings), transport_options=transport_options(settings))


def outcome_connection(settings: Settings) -> Connection:
    """The dispatcher's connection for reading `hub.outcomes`.

    Outcome messages carry no priority, so on Redis it reads one list instead of kombu's
    four priority lists: an empty read (the end of every drain) is one round trip, not four.
    """
    prepare(settings)
    options = transport_options(settings)
    if not is_embedded(settings):
        options["priority_steps"] = [0]
    return Connection(broker_url(settings), transport_options=options)


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration shared by the sending hub and the workers."""
    return {
        "broker_url": broker_url(settings),
        "broker_transport_options": transport_options(settings),
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        # JSON only: nothing on the wire can execute code, and the sealed envelope is text.
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        # No result backend: outcomes go to `hub.outcomes`, value-free, by our own hand.
        "result_backend": None,
        "task_ignore_result": True,
        "result_extended": False,
        "task_store_errors_even_if_ignored": False,
        # A message is acknowledged after the delivery ran; a worker that dies mid-task gets
        # its message back (idempotency keys make the second run harmless downstream).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": DELIVERY_QUEUE,
        "task_routes": {DELIVERY_TASK: {"queue": DELIVERY_QUEUE}},
        "task_create_missing_queues": True,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": True,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "worker_enable_remote_control": not is_embedded(settings),
        "worker_disable_rate_limits": True,
        "broker_heartbeat": 0,
    }


def make_celery(settings: Settings, *, main: str = "hub", sender: bool = False) -> Celery:
    """A Celery app configured for this hub.

    `sender=True` is the dispatcher's app, which only publishes: on Redis it turns off
    redis-py's retry of a timed-out command, because kombu pipelines a producer's batch only
    when no pipeline can be replayed (a replay could push a batch twice). A publish that
    times out then fails, and its executions simply stay in the outbox for the next sweep.
    """
    prepare(settings)
    app = Celery(main, set_as_current=False)
    config = celery_config(settings)
    if sender and not is_embedded(settings):
        config["broker_transport_options"] = {**config["broker_transport_options"],
                                              "retry_on_timeout": False}
    app.conf.update(config)
    return app


def prune_processed(settings: Settings, *, older_than: float = 300.0) -> int:
    """Delete embedded-broker message files consumed more than `older_than` seconds ago."""
    if not is_embedded(settings):
        return 0
    folder = Path(transport_options(settings)["processed_folder"])
    cutoff = time.time() - older_than
    removed = 0
    for path in folder.glob("*.msg"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another dispatcher pruned it first
            continue
    return removed
