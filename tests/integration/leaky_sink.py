"""A test-only sink that does everything a careless sink could: it logs its credential,
prints it, and raises with it in the message. Workers import it with `--include` so the
canary can prove the hub's nets hold even then."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, SecretStr

from sinks import base
from sinks.base import Delivery, DeliveryResult, Sink

logger = logging.getLogger("tests.leaky")


class LeakyParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: SecretStr


def deliver(params: LeakyParameters, delivery: Delivery) -> DeliveryResult:
    value = params.token.get_secret_value()
    logger.warning("about to fail with %s", value)
    print(f"leaky sink got {value}")
    raise ValueError(f"cannot deliver with token {value!r}")


base._registry["leaky"] = Sink(name="leaky", description="test only: leaks on purpose",
                               parameters=LeakyParameters, deliver=deliver)
