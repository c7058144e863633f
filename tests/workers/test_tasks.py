"""The worker's task as a plain function: unseal, scrub, run the sink, report value-free."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from hub.logging.scrubber import Scrubber
from hub.sealing import TransportKeys, seal
from hub.secret_value import SecretValue
from sinks import base
from sinks.base import Delivery, DeliveryResult, PermanentSinkError, RetryableSinkError, Sink
from workers import tasks
from workers.tasks import SCRUB_GRACE_SECONDS, run_delivery, scrub_outcome

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class CaptureParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: SecretStr
    note: str = ""
    behaviour: str = "ok"


class Capture:
    """A sink that remembers what it got and fails on request (with the value, carelessly)."""

    def __init__(self) -> None:
        self.calls: list[tuple[CaptureParameters, Delivery]] = []

    def deliver(self, params: CaptureParameters, delivery: Delivery) -> DeliveryResult:
        self.calls.append((params, delivery))
        value = params.token.get_secret_value()
        if params.behaviour == "leak-permanent":
            raise PermanentSinkError(f"receiver rejected token {value}")
        if params.behaviour == "leak-retry":
            raise RetryableSinkError(f"busy; token was {value}", retry_after=7)
        if params.behaviour == "leak-bug":
            raise ValueError(f"unexpected {value!r}")
        return DeliveryResult(summary=f"ok for {value}", details={"echo": value, "n": 1})


@pytest.fixture
def capture() -> Iterator[Capture]:
    sink = Capture()
    base._registry["test-capture"] = Sink(name="test-capture", description="test",
                                          parameters=CaptureParameters, deliver=sink.deliver)
    yield sink
    base._registry.pop("test-capture", None)


@pytest.fixture
def keys() -> TransportKeys:
    return TransportKeys([TransportKeys.generate()])


def _message(keys: TransportKeys, value: str, *, attempt: int = 1, behaviour: str = "ok",
             expires_at: datetime = NOW + timedelta(hours=1), sink: str = "test-capture",
             sealed_attempt: int | None = None) -> dict[str, Any]:
    sealed = seal({"token": SecretValue(value)}, keys=keys, execution_id="exec-1",
                  attempt=sealed_attempt or attempt, expires_at=expires_at)
    return {"execution_id": "exec-1", "event_id": "event-1", "event_type": "order.created",
            "attempt": attempt, "idempotency_key": "exec-1", "sink": sink, "timeout": 5.0,
            "payload": {"order": 7}, "parameters": {"note": "hello", "behaviour": behaviour},
            "sealed": sealed}


def _run(keys: TransportKeys, message: dict[str, Any]) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    run_delivery(message, keys=keys, report=reports.append, clock=lambda: NOW)
    return reports


def _fresh() -> str:
    return "val-" + secrets.token_urlsafe(18)


def _assert_absent(value: str, *things: object) -> None:
    text = json.dumps(things, default=str)
    assert value not in text
    assert value not in repr(things)


def test_credential_reaches_the_sink_model_as_secret_str(capture: Capture,
                                                         keys: TransportKeys) -> None:
    value = _fresh()
    reports = _run(keys, _message(keys, value))
    params, delivery = capture.calls[0]
    assert isinstance(params.token, SecretStr)
    assert params.token.get_secret_value() == value
    assert value not in repr(params)
    assert (delivery.execution_id, delivery.attempt, delivery.idempotency_key) == (
        "exec-1", 1, "exec-1")
    assert [r["status"] for r in reports] == ["succeeded"]


def test_started_outcome_is_reported_first_only_when_asked(capture: Capture,
                                                          keys: TransportKeys) -> None:
    reports: list[dict[str, Any]] = []
    run_delivery(_message(keys, _fresh()), keys=keys, report=reports.append,
                 clock=lambda: NOW, report_started=True)
    assert [r["status"] for r in reports] == ["started", "succeeded"]
    assert reports[0]["started_at"] == NOW.isoformat()


def test_outcome_of_a_success_is_scrubbed_even_when_the_sink_echoes_the_value(
        capture: Capture, keys: TransportKeys) -> None:
    value = _fresh()
    reports = _run(keys, _message(keys, value))
    final = reports[-1]
    assert final["summary"].startswith("ok for ")
    assert final["details"]["n"] == 1
    _assert_absent(value, reports)


@pytest.mark.parametrize(("behaviour", "status"), [
    ("leak-permanent", "failed"), ("leak-retry", "retry"), ("leak-bug", "retry")])
def test_sink_errors_become_outcomes_without_the_value(
        capture: Capture, keys: TransportKeys, behaviour: str, status: str) -> None:
    value = _fresh()
    reports = _run(keys, _message(keys, value, behaviour=behaviour))
    assert reports[-1]["status"] == status
    assert reports[-1]["error"]
    _assert_absent(value, reports)


def test_retryable_error_carries_the_receivers_retry_after_hint(
        capture: Capture, keys: TransportKeys) -> None:
    reports = _run(keys, _message(keys, _fresh(), behaviour="leak-retry"))
    assert reports[-1]["retry_after"] == 7


def test_expired_seal_reports_retry_and_never_runs_the_sink(capture: Capture,
                                                            keys: TransportKeys) -> None:
    reports = _run(keys, _message(keys, _fresh(), expires_at=NOW - timedelta(seconds=1)))
    assert [r["status"] for r in reports] == ["retry"]
    assert "expired" in reports[0]["error"]
    assert capture.calls == []


def test_seal_made_for_another_attempt_does_not_open(capture: Capture,
                                                     keys: TransportKeys) -> None:
    reports = _run(keys, _message(keys, _fresh(), attempt=2, sealed_attempt=1))
    assert [r["status"] for r in reports] == ["retry"]
    assert capture.calls == []


def test_seal_under_a_key_the_worker_lacks_does_not_open(capture: Capture,
                                                         keys: TransportKeys) -> None:
    other = TransportKeys([TransportKeys.generate()])
    reports = _run(other, _message(keys, _fresh()))
    assert [r["status"] for r in reports] == ["retry"]
    assert capture.calls == []


def test_unknown_sink_fails_permanently(keys: TransportKeys) -> None:
    reports = _run(keys, _message(keys, _fresh(), sink="no-such-sink"))
    assert reports[-1]["status"] == "failed"
    assert "no-such-sink" in reports[-1]["error"]


def test_invalid_parameters_fail_permanently_naming_the_field(capture: Capture,
                                                              keys: TransportKeys) -> None:
    message = _message(keys, _fresh())
    message["parameters"] = {"unexpected": 1}
    reports = _run(keys, message)
    assert reports[-1]["status"] == "failed"
    assert "unexpected" in reports[-1]["error"]
    assert capture.calls == []


def test_scrub_outcome_keeps_numbers_and_drops_non_finite_floats() -> None:
    assert scrub_outcome({"a": 1, "b": 2.5, "c": float("nan"), "d": [True, None]}) == {
        "a": 1, "b": 2.5, "c": None, "d": [True, None]}


class _Ticks:
    """A monotonic clock for a scrubber that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_values_stay_masked_until_the_hard_time_limit_plus_grace_then_expire(
        capture: Capture, keys: TransportKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = _Ticks()
    scrubber = Scrubber(clock=ticks, background=False)
    monkeypatch.setattr(tasks, "get_scrubber", lambda: scrubber)
    value = _fresh()
    _run(keys, _message(keys, value))  # timeout 5 s, so the hard limit is 20 s
    ttl = 5.0 + 15.0 + SCRUB_GRACE_SECONDS
    ticks.now += ttl - 1
    scrubber.compact()
    assert value not in scrubber.scrub(f"late line {value}")
    ticks.now += 2
    scrubber.compact()
    assert value in scrubber.scrub(f"late line {value}")


def test_value_shorter_than_the_workers_minimum_fails_closed_naming_only_the_parameter(
        capture: Capture, keys: TransportKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker may be configured stricter than the hub that accepted the secret.
    scrubber = Scrubber(min_length=64, background=False)
    monkeypatch.setattr(tasks, "get_scrubber", lambda: scrubber)
    value = _fresh()
    reports = _run(keys, _message(keys, value))
    assert [r["status"] for r in reports] == ["failed"]
    assert "'token'" in reports[0]["error"]
    assert capture.calls == []
    _assert_absent(value, reports)
