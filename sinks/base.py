"""The sink contract: what a sink module declares and what the worker hands it.

A sink is one module that imports this file (and third-party libraries) and exposes a
module-level ``SINK = Sink(...)``. The hub and the workers know sinks only through this file:
they discover them through the ``hub.sinks`` entry-point group, validate resolved parameters
with :meth:`Sink.validate`, and call ``SINK.deliver(params, delivery)``.

Credentials are pydantic ``SecretStr`` fields, so a stray ``repr`` shows a mask. A sink reveals
them with ``.get_secret_value()`` only inside the library call that needs them, and never puts
them in a log line, a :class:`DeliveryResult` or an exception message.
"""

from __future__ import annotations

import logging
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

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

ENTRY_POINT_GROUP = "hub.sinks"

logger = logging.getLogger("hub.sinks")


class SinkError(Exception):
    """Root of every sink failure. Messages never contain credential values."""


class RetryableSinkError(SinkError):
    """The delivery may succeed later: connection refused, timeout, 5xx, 429, SMTP 4xx.

    ``retry_after`` carries the receiver's own hint (seconds), when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as cls(*args); keep the keyword-only hint across process borders.
        return (_rebuild_retryable, (str(self), self.retry_after))


def _rebuild_retryable(message: str, retry_after: float | None) -> RetryableSinkError:
    return RetryableSinkError(message, retry_after=retry_after)


class PermanentSinkError(SinkError):
    """Trying again will not help: rejected credentials, 4xx, bad recipient, bad parameters."""


class InvalidParameters(PermanentSinkError):
    """Parameters do not fit the sink's model. ``problems`` holds (field, message) pairs."""

    def __init__(self, sink: str, problems: tuple[tuple[str, str], ...]) -> None:
        listed = "; ".join(f"{where}: {message}" for where, message in problems)
        super().__init__(f"invalid parameters for sink {sink!r}: {listed}")
        self.sink = sink
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        return (InvalidParameters, (self.sink, self.problems))


class UnknownSink(SinkError):
    """No sink of that name is installed."""


@dataclass(frozen=True)
class Delivery:
    """What the worker knows about this one delivery."""

    execution_id: str
    event_id: str
    event_type: str
    attempt: int
    idempotency_key: str
    """Stable across attempts and redeliveries of one execution; pass it downstream."""
    payload: Mapping[str, Any]
    timeout: float
    """Seconds this delivery may take in total."""


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of a successful delivery: short text plus small JSON-able facts."""

    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class Sink(Generic[P]):
    """A named delivery function and the pydantic model of its parameters."""

    name: str
    description: str
    parameters: type[P]
    deliver: Callable[[P, Delivery], DeliveryResult]

    def credential_fields(self) -> frozenset[str]:
        """Names of the fields typed ``SecretStr`` or ``SecretStr | None``."""
        return frozenset(
            name
            for name, info in self.parameters.model_fields.items()
            if _is_secret(info.annotation)
        )

    def parameter_schema(self) -> dict[str, Any]:
        """JSON schema of the parameters; credential fields carry ``"x-credential": true``."""
        schema = self.parameters.model_json_schema()
        properties = schema.get("properties", {})
        for name in self.credential_fields():
            info = self.parameters.model_fields[name]
            prop = properties.get(info.alias or name)
            if prop is not None:
                prop["x-credential"] = True
                prop["writeOnly"] = True
        return schema

    def validate(self, values: Mapping[str, Any]) -> P:
        """Validate resolved values into the model; errors name fields, never echo input."""
        try:
            return self.parameters.model_validate(values)
        except ValidationError as exc:
            # Only 'loc' and 'msg': pydantic's 'input' (and str(exc)) would echo the values.
            problems = tuple(
                (".".join(str(part) for part in error["loc"]) or "(parameters)", error["msg"])
                for error in exc.errors(include_url=False, include_input=False)
            )
        # Raised outside the except block so the ValidationError is not chained as context.
        raise InvalidParameters(self.name, problems)


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return members == [SecretStr]
    return False


def load_sinks() -> dict[str, Sink[Any]]:
    """Every installed sink by entry-point name. A broken one is skipped with a warning."""
    found: dict[str, Sink[Any]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in found:
            logger.warning("sink %r declared twice; ignoring %s", point.name, point.value)
            continue
        try:
            sink = point.load()
        except Exception as exc:
            logger.warning("sink %r skipped: %s failed to load: %s: %s",
                           point.name, point.value, type(exc).__name__, exc)
            continue
        if not isinstance(sink, Sink):
            logger.warning("sink %r skipped: %s is not a Sink", point.name, point.value)
            continue
        found[point.name] = sink
    return found


_registry: dict[str, Sink[Any]] = {}


def get_sink(name: str) -> Sink[Any]:
    """The installed sink of that name, or UnknownSink listing the known ones."""
    if name not in _registry:
        # Discovery scans installed distributions; do it once, again only for a new name.
        _registry.update(load_sinks())
    sink = _registry.get(name)
    if sink is None:
        known = ", ".join(sorted(_registry)) or "none"
        raise UnknownSink(f"unknown sink {name!r}; installed sinks: {known}")
    return sink
