"""Celery without leaks: `install_celery_scrubbing(app)` on the app of every hub process.

Celery prints task arguments in several places of its own, before and around our code:

- "Received task" and the failure log show `argsrepr`/`kwargsrepr`, which default to the
  plaintext arguments, and `Task.retry()` re-publishes without them (celery#6086). A
  `before_task_publish` handler rewrites both headers to name-only forms on every publish,
  retries included.
- `MaxRetriesExceededError` embeds the raw arguments in its message: the app's tasks raise a
  subclass that says which task, not with what.
- At DEBUG, "TaskPool: Apply" logs the raw message body, and unknown or invalid messages are
  dumped whole (`dump_body`): both are cut down to a size and a type.
- Celery configures logging itself unless someone answers `setup_logging`: we answer with
  `configure_logging()`, then redirect stdout/stderr into logging (which Celery skips once
  logging is ours), so `print()` in a task goes through the scrubber too.

Pool children are forked from the configured main process and inherit all of it; the
process-wide scrubber resets its locks after a fork and keeps its values.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals
from celery.exceptions import MaxRetriesExceededError
from celery.worker.consumer import consumer as celery_consumer

from hub.config import Settings
from hub.logging.configure import configure_logging, get_scrubber

_APPLY_MESSAGE = "TaskPool: Apply"

#: A publisher that writes its own value-free `argsrepr`/`kwargsrepr` (the dispatcher's name
#: the secret keys a delivery carries) sets this header; its reprs are kept, scrubbed once more.
VALUE_FREE_REPRS = "hub-value-free-reprs"


class ValueFreeMaxRetriesExceededError(MaxRetriesExceededError):
    """`MaxRetriesExceededError` whose message names the task and never its arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("max retries exceeded", **kwargs)
        # Celery keeps the arguments on the exception; they must not travel on with it.
        self.task_args: list[Any] = []
        self.task_kwargs: dict[str, Any] = {}


def install_celery_scrubbing(app: Celery, settings: Settings | None = None) -> None:
    """Make `app`'s worker and publisher keep every value out of what Celery prints."""
    app.Task.MaxRetriesExceededError = ValueFreeMaxRetriesExceededError

    def setup_logging(loglevel: Any = None, **_: Any) -> None:
        configure_logging(settings, level=loglevel or None)
        if app.conf.worker_redirect_stdouts:
            app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)

    # Strong references with a per-app uid: connecting twice is harmless.
    signals.setup_logging.connect(setup_logging, weak=False, dispatch_uid=f"hub-{id(app)}")
    signals.before_task_publish.connect(name_only_reprs, weak=False,
                                        dispatch_uid="hub-name-only-reprs")
    logging.getLogger("celery.pool").addFilter(_elide_pool_apply_arguments)
    celery_consumer.dump_body = value_free_dump_body


def name_only_reprs(body: Any = None, headers: dict[str, Any] | None = None,
                    **_: Any) -> None:
    """`before_task_publish`: argsrepr/kwargsrepr show argument types and names, not values."""
    if headers is None or not isinstance(body, list | tuple) or len(body) < 2:
        return
    scrub = get_scrubber().scrub
    if headers.get(VALUE_FREE_REPRS):
        headers["argsrepr"] = scrub(str(headers.get("argsrepr") or "()"))
        headers["kwargsrepr"] = scrub(str(headers.get("kwargsrepr") or "{}"))
        return
    args, kwargs = body[0], body[1]
    headers["argsrepr"] = "(" + ", ".join(_placeholder(arg) for arg in args or ()) + ")"
    headers["kwargsrepr"] = "{" + ", ".join(
        f"{scrub(repr(str(name)))}: {_placeholder(value)}"
        for name, value in (kwargs or {}).items()
    ) + "}"


def value_free_dump_body(message: Any, body: Any) -> str:
    """Replaces Celery's `dump_body`: the body's type and size, never its content."""
    raw = getattr(message, "body", b"") or b""
    shown = body if body is not None else raw
    return f"<{type(shown).__name__} body elided, {len(raw)} bytes>"


def _elide_pool_apply_arguments(record: logging.LogRecord) -> bool:
    if isinstance(record.msg, str) and record.msg.startswith(_APPLY_MESSAGE):
        args = record.args if isinstance(record.args, tuple) else ()
        record.args = (args[0] if args else "?", "<elided>", "<elided>")
    return True


def _placeholder(value: Any) -> str:
    return f"<{type(value).__name__}>"

