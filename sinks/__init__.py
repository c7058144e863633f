"""Sinks: where actions deliver (HTTP, SMTP, SQL, log, and third-party ones).

The contract lives in :mod:`sinks.base`; each built-in sink is one module beside it that
exposes ``SINK``. Installed sinks are discovered through the ``hub.sinks`` entry points.
"""

from sinks.base import (
    Delivery,
    DeliveryResult,
    InvalidParameters,
    PermanentSinkError,
    RetryableSinkError,
    Sink,
    SinkError,
    UnknownSink,
    get_sink,
    load_sinks,
)

__all__ = [
    "Delivery",
    "DeliveryResult",
    "InvalidParameters",
    "PermanentSinkError",
    "RetryableSinkError",
    "Sink",
    "SinkError",
    "UnknownSink",
    "get_sink",
    "load_sinks",
]
