"""`configure_logging()`: one logging setup for every hub process, the scrubber built in.

structlog for our code, and the standard library's loggers (Celery, kombu, uvicorn, httpx,
SQLAlchemy, `warnings`, and `print` where Celery redirects stdout/stderr) all end in one
handler on the root logger, whose formatter runs the same chain for both:

    level, logger name, timestamp -> exception rendered to text (no locals) -> render (JSON
    lines or console) -> if the line holds anything registered: scrub the event dict at every
    depth, render it again, and scrub that line

The process-wide scrubber (`get_scrubber()`) exists from import time, so values can be added
before logging is configured, and survives any number of `configure_logging()` calls and
forks: reconfiguring replaces the handler, never the registered values.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any, TextIO

import structlog

from hub.config import Settings, load_settings
from hub.logging.processors import (
    SUPPRESSED_EVENT,
    SUPPRESSED_JSON_LINE,
    FailClosedFormatter,
    ScrubbingHandler,
    ScrubbingRenderer,
)
from hub.logging.scrubber import Scrubber

_SCRUBBER = Scrubber()
_LOCK = threading.Lock()


def get_scrubber() -> Scrubber:
    """The scrubber of this process: register values with it, scrub text with it."""
    return _SCRUBBER


def configure_logging(settings: Settings | None = None, *, level: str | int | None = None,
                      stream: TextIO | None = None) -> None:
    """Route every log line of this process through the scrubber. Safe to call again.

    `settings` (default: from the environment) give the format (`HUB_LOG_FORMAT`) and level
    (`HUB_LOG_LEVEL`); `level` overrides the latter (a worker's `--loglevel`); `stream`
    defaults to standard error.
    """
    settings = settings if settings is not None else load_settings()
    scrubber = get_scrubber()
    # The store refuses shorter secrets, so the scrubber need not mask shorter values.
    scrubber.min_length = settings.min_secret_length
    stream = stream if stream is not None else _real_stderr()
    json_lines = settings.log_format == "json"
    with _LOCK:
        formatter = FailClosedFormatter(
            foreign_pre_chain=_pre_chain(),
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                ScrubbingRenderer(_renderer(json_lines, stream), scrubber),
            ],
            scrubber=scrubber,
            suppressed_line=SUPPRESSED_JSON_LINE if json_lines else SUPPRESSED_EVENT,
        )
        handler = ScrubbingHandler(stream)
        handler.setFormatter(formatter)
        handler._hub_scrubbing = True  # type: ignore[attr-defined]
        root = logging.getLogger()
        # Every other handler on the root would write records the scrubber never saw.
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(level if level is not None else settings.log_level)
        _route_every_logger_to_root()
        logging.captureWarnings(True)
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.filter_by_level,
                structlog.stdlib.PositionalArgumentsFormatter(),
                structlog.processors.StackInfoRenderer(),
                *_pre_chain(),
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )


def _route_every_logger_to_root() -> None:
    """Loggers that a library gave handlers of their own (uvicorn's default config, an
    alembic ini, ...) would write around the scrubber: send them through the root instead."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue  # a placeholder for a logger nobody created yet
        for old in list(logger.handlers):
            if not getattr(old, "_hub_scrubbing", False):
                logger.removeHandler(old)
        logger.propagate = True
        logger.disabled = False


def _pre_chain() -> list[Any]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _renderer(json_lines: bool, stream: TextIO) -> Any:
    if json_lines:
        return structlog.processors.JSONRenderer()
    # Plain tracebacks: the pretty ones render local variables, and locals hold values.
    return structlog.dev.ConsoleRenderer(
        colors=_is_terminal(stream),
        exception_formatter=structlog.dev.plain_traceback,
    )


def _real_stderr() -> TextIO:
    # Celery replaces sys.stderr with a proxy that logs what is written to it; a handler that
    # wrote there would feed its own lines back into logging.
    if isinstance(sys.stderr, io.IOBase):
        return sys.stderr  # type: ignore[return-value]
    return sys.__stderr__ if sys.__stderr__ is not None else sys.stderr


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
