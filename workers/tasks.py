"""The one task a worker runs: unseal a delivery's credentials, run its sink, report back.

`run_delivery` is the whole job as a plain function (tests call it without Celery);
`register_tasks` binds it to a Celery app as `hub.deliver`. The task never raises and never
retries by itself: every failure becomes a value-free outcome message for the dispatcher,
which decides about attempt n+1 and resolves the secrets again when it comes.

Order matters on the secret path: the values are registered with the scrubber right after
unsealing, before the sink or anything else can log a line about them, and every string in
an outcome is scrubbed before it leaves the process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from hub.broker import DELIVERY_TASK, OUTCOME_QUEUE, outcome_queue, task_time_limits
from hub.errors import CryptoError, InvalidInput
from hub.logging import get_scrubber
from hub.sealing import SealExpired, TransportKeys, unseal
from sinks.base import (
    Delivery,
    InvalidParameters,
    PermanentSinkError,
    RetryableSinkError,
    SinkError,
    get_sink,
)

logger = logging.getLogger("hub.worker")

Clock = Callable[[], datetime]
Report = Callable[[dict[str, Any]], None]

#: Statuses of an outcome message (the dispatcher maps them onto the execution).
STARTED, SUCCEEDED, RETRY, FAILED = "started", "succeeded", "retry", "failed"

MAX_ERROR_CHARS = 2000
#: How long past a task's hard time limit this process keeps masking its values, so the
#: lines Celery writes after the task (its failure report, a traceback) are covered too.
SCRUB_GRACE_SECONDS = 600.0


@dataclass(frozen=True)
class Envelope:
    """A delivery as it crosses the broker: everything but the credentials is in clear."""

    execution_id: str
    event_id: str
    event_type: str
    attempt: int
    idempotency_key: str
    sink: str
    timeout: float
    payload: Mapping[str, Any]
    parameters: Mapping[str, Any]
    sealed: str | None

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Envelope:
        return cls(
            execution_id=str(message["execution_id"]),
            event_id=str(message["event_id"]),
            event_type=str(message["event_type"]),
            attempt=int(message["attempt"]),
            idempotency_key=str(message["idempotency_key"]),
            sink=str(message["sink"]),
            timeout=float(message["timeout"]),
            payload=dict(message.get("payload") or {}),
            parameters=dict(message.get("parameters") or {}),
            sealed=message.get("sealed"),
        )


class UnusableSecret(Exception):
    """A sealed value no sink may be given: binary, or too short for the scrubber to mask."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"the secret for parameter {parameter!r} {reason}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_delivery(message: Mapping[str, Any], *, keys: TransportKeys, report: Report,
                 clock: Clock = utc_now, report_started: bool = False) -> dict[str, Any]:
    """Run one delivery end to end; `report` receives the final outcome (and, first, a
    `started` one if `report_started`).

    `started` is off by default: it doubles the outcome traffic of every delivery, and
    without it the dispatcher still catches a lost attempt, at the deadline it set when it
    sent the attempt (start allowance + timeout + grace) instead of timeout + grace after the
    start. Turn it on where actions run long and a lost one should be noticed sooner.
    """
    envelope = Envelope.from_message(message)
    started = clock()

    def outcome(status: str, **facts: Any) -> dict[str, Any]:
        body = {"execution_id": envelope.execution_id, "attempt": envelope.attempt,
                "status": status, "started_at": started.isoformat(), **facts}
        return scrub_outcome(body)

    try:
        secrets = unseal_into_scrubber(envelope, keys=keys, now=started)
    except UnusableSecret as exc:
        final = outcome(FAILED, error=str(exc), finished_at=clock().isoformat())
        report(final)
        return final
    except SealExpired:
        final = outcome(RETRY, error="the sealed credentials expired before delivery",
                        finished_at=clock().isoformat())
        report(final)
        return final
    except CryptoError:
        final = outcome(RETRY, error="the sealed credentials could not be opened "
                        "(do the hub and this worker share the transport key?)",
                        finished_at=clock().isoformat())
        report(final)
        return final

    if report_started:
        report(outcome(STARTED))
    try:
        status, facts = _run_sink(envelope, secrets)
    finally:
        secrets.clear()
    final = outcome(status, finished_at=clock().isoformat(), **facts)
    report(final)
    return final


def unseal_into_scrubber(envelope: Envelope, *, keys: TransportKeys,
                         now: datetime) -> dict[str, Any]:
    """Open the sealed credentials and register every value before anything can log it.

    Fail closed: a value the scrubber cannot mask (binary, or shorter than this process's
    minimum, which may be higher than the hub's) raises `UnusableSecret` naming only the
    parameter, and the sink never runs with it.
    """
    if not envelope.sealed:
        return {}
    values = unseal(envelope.sealed, keys=keys, execution_id=envelope.execution_id,
                    attempt=envelope.attempt, now=now)
    scrubber = get_scrubber()
    revealed: dict[str, Any] = {}
    for parameter, value in sorted(values.items()):
        try:
            text = value.reveal_text()
        except CryptoError:
            raise UnusableSecret(parameter, "is not text; sinks take text credentials") from None
        if len(text) < scrubber.min_length:
            raise UnusableSecret(parameter, "is too short to be masked in logs")
        revealed[parameter] = text
    try:
        scrubber.add_many(revealed.values(), label=",".join(revealed),
                          ttl=scrub_ttl(envelope.timeout))
    except InvalidInput:  # a race with a reconfigured scrubber; still nothing runs
        raise UnusableSecret(",".join(revealed), "cannot be masked in logs") from None
    return revealed


def scrub_ttl(timeout: float) -> float:
    """How long this process keeps masking a delivery's values: the task's hard time limit
    (after which the pool process is killed) plus a grace for the lines logged after it."""
    return task_time_limits(timeout)[1] + SCRUB_GRACE_SECONDS


def _run_sink(envelope: Envelope, secrets: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    delivery = Delivery(
        execution_id=envelope.execution_id, event_id=envelope.event_id,
        event_type=envelope.event_type, attempt=envelope.attempt,
        idempotency_key=envelope.idempotency_key, payload=envelope.payload,
        timeout=envelope.timeout,
    )
    try:
        sink = get_sink(envelope.sink)
        params = sink.validate({**envelope.parameters, **secrets})
        result = sink.deliver(params, delivery)
    except SoftTimeLimitExceeded:
        return RETRY, {"error": f"the delivery timed out after {envelope.timeout:g}s"}
    except RetryableSinkError as exc:
        return RETRY, {"error": _describe(exc), "retry_after": exc.retry_after}
    except (InvalidParameters, PermanentSinkError) as exc:
        return FAILED, {"error": _describe(exc)}
    except SinkError as exc:  # UnknownSink and the like: this worker cannot do it
        return FAILED, {"error": _describe(exc)}
    except Exception as exc:
        # A sink bug: treat as retryable (it may be transient) but keep the type for the
        # operator; the message goes through the scrubber like every other string.
        logger.warning("sink %s raised %s", envelope.sink, type(exc).__name__)
        return RETRY, {"error": _describe(exc)}
    return SUCCEEDED, {"summary": str(result.summary), "details": dict(result.details)}


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, SinkError):
        text = f"{type(exc).__name__}: {text}"
    return text[:MAX_ERROR_CHARS]


def scrub_outcome(value: Any) -> Any:
    """Every string of an outcome (keys too) through the scrubber; numbers stay numbers."""
    scrub = get_scrubber().scrub
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrub_outcome(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_outcome(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(repr(value))


def publisher(app: Celery) -> Report:
    """A `report` that publishes outcome messages on `hub.outcomes` over the app's broker."""

    def publish(outcome: Mapping[str, Any]) -> None:
        with app.producer_or_acquire() as producer:
            producer.publish(
                # The default exchange routes by queue name: one broker round trip, no
                # binding lookup (outcomes are two messages per delivery; they add up).
                dict(outcome), exchange="", routing_key=OUTCOME_QUEUE,
                declare=[outcome_queue], serializer="json", delivery_mode=2, retry=True,
                retry_policy={"max_retries": 10, "interval_start": 0.2,
                              "interval_step": 0.5, "interval_max": 2.0},
            )

    return publish


def register_tasks(app: Celery, keys: Callable[[], TransportKeys], *,
                   report_started: bool = False) -> None:
    """Bind `hub.deliver` to `app`; `keys` loads the transport keys (once per process)."""
    report = publisher(app)

    @app.task(name=DELIVERY_TASK, ignore_result=True, acks_late=True,
              reject_on_worker_lost=True)
    def deliver(envelope: dict[str, Any]) -> None:
        # Return nothing: Celery logs a task's return value.
        run_delivery(envelope, keys=keys(), report=report, report_started=report_started)
