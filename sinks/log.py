"""The log sink: write a line about the delivery to the standard ``logging`` logger.

For demos, smoke tests and benchmarks: it has no credentials and no network, and costs about
one log call. The line names the event type, the idempotency key and the payload's top-level
keys (not its values: payloads are data the operator may not want in logs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sinks.base import Delivery, DeliveryResult, Sink

logger = logging.getLogger("hub.sinks.log")

LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
          "ERROR": logging.ERROR}
SHOWN_KEYS = 10


class LogParameters(BaseModel):
    """What to say and how loudly."""

    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(default=None, description="text to log; default: 'delivery'")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def payload_summary(payload: object) -> str:
    """Top-level keys, at most a few, e.g. ``{order, customer, +3 more}``."""
    if not isinstance(payload, Mapping):
        return type(payload).__name__
    keys = [str(key) for key in list(payload)[:SHOWN_KEYS]]
    extra = len(payload) - len(keys)
    return "{" + ", ".join(keys) + (f", +{extra} more" if extra else "") + "}"


def deliver(params: LogParameters, delivery: Delivery) -> DeliveryResult:
    level = LEVELS[params.level]
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "%s: event_type=%s idempotency_key=%s attempt=%d payload=%s",
            params.message or "delivery",
            delivery.event_type,
            delivery.idempotency_key,
            delivery.attempt,
            payload_summary(delivery.payload),
            extra={"event_type": delivery.event_type,
                   "idempotency_key": delivery.idempotency_key,
                   "execution_id": delivery.execution_id},
        )
    return DeliveryResult(summary=f"logged {delivery.event_type} at {params.level}",
                          details={"level": params.level})


SINK = Sink(
    name="log",
    description="Write the delivery to the hub's log (for demos and benchmarks).",
    parameters=LogParameters,
    deliver=deliver,
)
