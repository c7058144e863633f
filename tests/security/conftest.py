"""Fixtures of the security tests: the API test cast, captured scrubbed logs, value forms.

The app, hub and `world` (tenants `acme` and `other`, a token per role) are the API tests'
own fixtures, on both databases. `logs` routes the whole process's logging through
`configure_logging` into a buffer, as `hubctl serve` does, so a test reads exactly what an
operator's log would hold. `forms(value)` lists the encodings a leak could take.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
import structlog

from hub.config import Settings
from hub.logging import configure_logging
from tests.hub.api.conftest import (  # noqa: F401 (fixtures used by the tests of this folder)
    World,
    app,
    client,
    hub,
    secret_text,
    settings,
    world,
)

__all__ = ["World", "forms", "leaked", "secret_text"]


def forms(value: str | bytes) -> list[str]:
    """The value and its common encodings: URL, base64 (both alphabets), hex, JSON-escaped."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    found = {
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
    }
    if isinstance(value, str):
        found |= {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    return sorted(found)


def leaked(text: str, *values: str | bytes) -> list[str]:
    """Every form of every value that occurs in `text` (empty when nothing leaked)."""
    return [form for value in values for form in forms(value) if form in text]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The process's log output (JSON lines, DEBUG), as configured for a hub process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog_config = structlog.get_config()
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.configure(**structlog_config)
