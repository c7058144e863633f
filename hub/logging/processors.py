"""The scrubbing steps of the processor chain, and the formatter that fails closed.

`ScrubbingRenderer` wraps the final renderer (JSON or console). It renders the event and scans
the line: what a renderer writes is what leaves the process, so that scan decides. A clean
line (the usual case) is written as it is, at the cost of one scan. A line that holds anything
registered sends the event through the structured pass (`ScrubEvent`: every key and value, at
any depth, scrubbed, cycles cut), is rendered again from the scrubbed event, and the new line is
scrubbed once more as a last net. Masking the structure first, rather than only the line, keeps
JSON lines valid and masks values inside the reprs of objects and containers whole.

Exceptions are rendered to text (`format_exc_info`, no locals) before this step, so messages,
chained causes, groups, notes and traceback source lines are all plain strings by then.

`FailClosedFormatter` is where every record of the process ends, structlog's and the standard
library's alike. If anything in the chain raises, the record is replaced by a fixed line and
the scrubber's `suppressed_records` counter goes up: the original never reaches the output,
and neither does the exception, which may quote it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import structlog

from hub.logging.scrubber import Scrubber
from hub.logging.structured import scrub_structure

SUPPRESSED_EVENT = "log record suppressed: it could not be scrubbed"
SUPPRESSED_JSON_LINE = '{"event": "%s", "level": "error"}' % SUPPRESSED_EVENT  # noqa: UP031

Processor = Callable[[Any, str, Any], Any]


class ScrubEvent:
    """Processor: every key and value of the event dict, at any depth, scrubbed."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return scrub_structure(self.scrubber, event_dict)


class ScrubbingRenderer:
    """The final renderer, made safe: render, scan, and scrub the event when needed."""

    def __init__(self, renderer: Processor, scrubber: Scrubber) -> None:
        self.renderer = renderer
        self.scrubber = scrubber

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> str:
        try:
            # A copy: the console renderer pops keys, and the event may be rendered twice.
            line = self._render(logger, method, dict(event_dict))
        except (ValueError, TypeError, RecursionError):
            line = None  # a cycle, say: the structured pass cuts it
        if line is not None and not self.scrubber.find(line):
            return line
        scrubbed = scrub_structure(self.scrubber, event_dict, always=True)
        return self.scrubber.scrub(self._render(logger, method, scrubbed))

    def _render(self, logger: Any, method: str, event_dict: dict[str, Any]) -> str:
        line = self.renderer(logger, method, event_dict)
        return line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)


class FailClosedFormatter(structlog.stdlib.ProcessorFormatter):
    """A `ProcessorFormatter` that turns any failure into a fixed, value-free line."""

    def __init__(self, *args: Any, scrubber: Scrubber, suppressed_line: str,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scrubber = scrubber
        self.suppressed_line = suppressed_line

    def format(self, record: logging.LogRecord) -> str:
        try:
            return super().format(record)
        except Exception:
            self.scrubber.suppressed_records += 1
            return self.suppressed_line


class ScrubbingHandler(logging.StreamHandler):
    """A stream handler whose error path never prints the record (the stdlib one does)."""

    def handleError(self, record: logging.LogRecord) -> None:
        # logging.Handler.handleError writes record.msg and record.args to stderr: values.
        # If even this fails there is nothing left to report it to.
        with contextlib.suppress(Exception):
            if sys.__stderr__ is not None:
                sys.__stderr__.write(SUPPRESSED_EVENT + " (the log stream failed)\n")
