"""The log sink: one cheap line on the 'hub.sinks.log' logger."""

from __future__ import annotations

import logging

import pytest

from sinks.base import InvalidParameters
from sinks.log import SINK, payload_summary
from tests.sinks.sink_receivers import make_delivery


def test_delivery_is_logged_with_event_type_key_and_payload_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    params = SINK.validate({"message": "demo", "level": "WARNING"})
    with caplog.at_level(logging.DEBUG, logger="hub.sinks.log"):
        result = SINK.deliver(params, make_delivery(key="exec-1.key"))
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.name == "hub.sinks.log"
    line = record.getMessage()
    assert line.startswith("demo: event_type=order.created idempotency_key=exec-1.key")
    assert "payload={order, customer}" in line
    assert record.__dict__["idempotency_key"] == "exec-1.key"
    assert result.summary == "logged order.created at WARNING"


def test_payload_values_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    delivery = make_delivery(payload={"card": "4111-1111-1111-1111"})
    with caplog.at_level(logging.INFO, logger="hub.sinks.log"):
        SINK.deliver(SINK.validate({}), delivery)
    assert "4111" not in caplog.text and "card" in caplog.text


def test_level_below_the_threshold_logs_nothing_and_still_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.sinks.log"):
        result = SINK.deliver(SINK.validate({"level": "DEBUG"}), make_delivery())
    assert caplog.records == [] and result.details == {"level": "DEBUG"}


def test_large_payloads_are_summarised_by_their_first_keys() -> None:
    summary = payload_summary({f"k{i}": i for i in range(25)})
    assert summary.startswith("{k0, k1") and summary.endswith(", +15 more}")


def test_unknown_level_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"level": "LOUD"})
    assert [where for where, _ in caught.value.problems] == ["level"]


def test_log_sink_declares_no_credentials() -> None:
    assert SINK.credential_fields() == frozenset()
