"""Resolve, seal, send; outcomes, retries and lost attempts (hub.dispatch)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from hub.errors import CryptoError
from hub.sealing import unseal
from tests.hub.event_world import ACTOR, World

TOKEN = "tok-9f8e7d6c5b4a-value"


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    built = World.build(engine, tmp_path)
    built.webhook(tries=3, backoff=10.0)
    built.secrets.set("acme", "API_TOKEN", TOKEN, actor=ACTOR)
    return built


def _ingest(world: World, order: int = 7) -> str:
    [execution] = world.events.ingest("acme", "order.created", {"order": order},
                                      actor=ACTOR).executions
    return execution.id


def _outcome(world: World, execution_id: str, status: str, *, attempt: int = 1,
             **facts: Any) -> int:
    return world.dispatcher.record_outcomes([{
        "execution_id": execution_id, "attempt": attempt, "status": status,
        "started_at": world.clock().isoformat(), "finished_at": world.clock().isoformat(),
        **facts}])


def test_due_execution_is_sent_with_the_value_sealed_and_only_names_in_the_repr(
        world: World) -> None:
    execution_id = _ingest(world)
    report = world.dispatcher.sweep()
    assert (report.sent, report.failed, report.deferred) == (1, 0, 0)
    [sent] = world.sender.sent
    assert TOKEN not in json.dumps(sent.envelope) and TOKEN not in sent.kwargsrepr
    assert "auth_token" in sent.kwargsrepr and execution_id in sent.kwargsrepr
    assert sent.envelope["parameters"]["url"] == "https://example.org/hook/7"
    assert "auth_token" not in sent.envelope["parameters"]
    opened = unseal(sent.envelope["sealed"], keys=world.keys, execution_id=execution_id,
                    attempt=1, now=world.clock())
    assert opened["auth_token"].reveal_text() == TOKEN


def test_sealed_values_do_not_open_for_another_attempt(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    with pytest.raises(CryptoError):
        unseal(world.sender.sent[0].envelope["sealed"], keys=world.keys,
               execution_id=execution_id, attempt=2, now=world.clock())


def test_sent_attempt_records_key_at_version_and_the_execution_runs(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "running" and record.attempt == 1
    [attempt] = record.attempts
    assert (attempt.status, attempt.trigger) == ("sent", "first")
    assert [(s.parameter, s.label) for s in attempt.secrets] == [("auth_token", "API_TOKEN@1")]
    assert attempt.secrets[0].source_tenant_id == world.tenants.get("acme").id


def test_missing_secret_fails_naming_key_parameter_owner_and_tenant_and_sends_nothing(
        world: World) -> None:
    world.automations.create_action(
        "acme", name="other", sink="http", actor=ACTOR, parameters=[
            {"name": "url", "type": "STRING", "value": "https://example.org"},
            {"name": "auth_token", "type": "SECRET", "value": "NOPE_TOKEN"}])
    world.automations.create_automation("acme", name="on-other", event_type="order.created",
                                        action="other", actor=ACTOR)
    result = world.events.ingest("acme", "order.created", {"order": 7}, actor=ACTOR)
    report = world.dispatcher.sweep()
    assert (report.sent, report.failed) == (1, 1)
    failed = next(e for e in result.executions if e.action == "other")
    record = world.events.get_execution("acme", failed.id)
    assert record.status == "failed"
    assert record.error == ("secret 'NOPE_TOKEN' not found for parameter 'auth_token' of "
                            "action 'other' in tenant 'acme'")
    assert [e.envelope["execution_id"] for e in world.sender.sent] != [failed.id]


def test_missing_secret_of_an_event_type_parameter_names_the_event_type(
        world: World) -> None:
    world.webhook(event_type="invoice.paid", action="bill", action_params=[],
                  event_type_params=[{"name": "auth_token", "type": "SECRET",
                                      "value": "BILLING_TOKEN"}])
    [execution] = world.events.ingest("acme", "invoice.paid", {"order": 1},
                                      actor=ACTOR).executions
    world.dispatcher.sweep()
    assert world.events.get_execution("acme", execution.id).error == (
        "secret 'BILLING_TOKEN' not found for parameter 'auth_token' of event type "
        "'invoice.paid' in tenant 'acme'")


def test_broker_refusal_keeps_the_execution_queued_until_a_send_succeeds(
        world: World) -> None:
    execution_id = _ingest(world)
    world.sender.down = True
    assert world.dispatcher.sweep().deferred == 1
    record = world.events.get_execution("acme", execution_id)
    assert (record.status, record.attempts) == ("queued", ())
    world.sender.down = False
    assert world.dispatcher.sweep().sent == 0, "not before its short pause"
    world.clock.advance(2)
    assert world.dispatcher.sweep().sent == 1
    assert world.events.get_execution("acme", execution_id).status == "running"


class _FlushFails:
    """A sender that buffers the batch and then fails to flush it, like a broken pipeline."""

    def __init__(self) -> None:
        self.buffered: list[Mapping[str, Any]] = []

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        yield
        raise ConnectionError("pipeline failed; delivery uncertain")

    def send(self, envelope: Mapping[str, Any], *, kwargsrepr: str, timeout: float) -> None:
        self.buffered.append(envelope)


def test_batch_whose_flush_fails_marks_nothing_sent_and_keeps_every_execution_queued(
        world: World) -> None:
    ids = [_ingest(world, order) for order in (1, 2, 3)]
    world.dispatcher.sender = _FlushFails()
    report = world.dispatcher.sweep()
    assert (report.sent, report.deferred) == (0, 3)
    for execution_id in ids:
        record = world.events.get_execution("acme", execution_id)
        assert (record.status, record.attempts) == ("queued", ())
    world.dispatcher.sender = world.sender
    world.clock.advance(2)
    assert world.dispatcher.sweep().sent == 3


def test_claimed_execution_is_not_sent_by_a_second_sweep_while_leased(world: World) -> None:
    _ingest(world)
    jobs = world.dispatcher._claim()
    assert len(jobs) == 1
    assert world.dispatcher.sweep().sent == 0
    world.clock.advance(world.dispatcher.lease.total_seconds() + 1)
    assert world.dispatcher.sweep().sent == 1


def test_started_then_succeeded_outcomes_finish_the_execution(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    assert _outcome(world, execution_id, "started") == 1
    assert world.events.get_execution("acme", execution_id).attempts[0].status == "running"
    assert _outcome(world, execution_id, "succeeded", summary="POST 201",
                    details={"status": 201}) == 1
    record = world.events.get_execution("acme", execution_id)
    assert (record.status, record.result_summary) == ("succeeded", "POST 201")
    assert record.finished_at == world.clock()


def test_permanent_failure_outcome_fails_the_execution_with_its_error(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "failed", error="HTTP 403 from the receiver")
    record = world.events.get_execution("acme", execution_id)
    assert (record.status, record.error) == ("failed", "HTTP 403 from the receiver")


def test_retryable_outcome_schedules_the_next_attempt_after_exponential_backoff(
        world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "retry", error="HTTP 503")
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "retrying"
    assert record.next_attempt_at == world.clock() + timedelta(seconds=10)
    world.clock.advance(9)
    assert world.dispatcher.sweep().sent == 0
    world.clock.advance(1)
    assert world.dispatcher.sweep().sent == 1
    _outcome(world, execution_id, "retry", attempt=2, error="HTTP 503")
    record = world.events.get_execution("acme", execution_id)
    assert record.next_attempt_at == world.clock() + timedelta(seconds=20)


def test_receivers_retry_after_hint_lengthens_the_backoff(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "retry", error="HTTP 429", retry_after=120)
    record = world.events.get_execution("acme", execution_id)
    assert record.next_attempt_at == world.clock() + timedelta(seconds=120)


def test_retry_resolves_again_and_records_the_rotated_version(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "retry", error="HTTP 503")
    world.secrets.set("acme", "API_TOKEN", "tok-rotated-0002-value", actor=ACTOR)
    world.clock.advance(10)
    world.dispatcher.sweep()
    record = world.events.get_execution("acme", execution_id)
    assert [[s.label for s in a.secrets] for a in record.attempts] == [
        ["API_TOKEN@1"], ["API_TOKEN@2"]]
    assert record.attempts[1].trigger == "retry"
    resent = world.sender.sent[-1].envelope
    opened = unseal(resent["sealed"], keys=world.keys, execution_id=execution_id, attempt=2,
                    now=world.clock())
    assert opened["auth_token"].reveal_text() == "tok-rotated-0002-value"
    assert resent["idempotency_key"] == world.sender.sent[0].envelope["idempotency_key"]


def test_tries_used_up_make_the_execution_dead(world: World) -> None:
    execution_id = _ingest(world)
    for attempt in (1, 2, 3):
        world.dispatcher.sweep()
        _outcome(world, execution_id, "retry", attempt=attempt, error="HTTP 503")
        world.clock.advance(3600)
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "dead"
    assert "HTTP 503" in (record.error or "")
    assert len(record.attempts) == 3


def test_outcomes_for_an_old_attempt_or_a_finished_one_are_ignored(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "retry", error="HTTP 503")
    world.clock.advance(10)
    world.dispatcher.sweep()
    assert _outcome(world, execution_id, "succeeded", attempt=1) == 0, "old attempt"
    assert _outcome(world, execution_id, "succeeded", attempt=2) == 1
    assert _outcome(world, execution_id, "failed", attempt=2, error="late") == 0, "duplicate"
    assert world.events.get_execution("acme", execution_id).status == "succeeded"


def test_malformed_outcomes_are_ignored_without_failing_the_batch(world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    outcomes: list[Any] = [
        {"nonsense": True}, "text", {"execution_id": execution_id, "attempt": "x",
                                     "status": "succeeded"},
        {"execution_id": execution_id, "attempt": 1, "status": "succeeded"}]
    applied = world.dispatcher.record_outcomes(outcomes)
    assert applied == 1


def test_error_text_is_scrubbed_of_resolved_values_by_the_dispatcher_too(
        world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "failed", error=f"the receiver said: bad token {TOKEN}")
    record = world.events.get_execution("acme", execution_id)
    assert TOKEN not in (record.error or "") and "bad token" in (record.error or "")


def test_running_attempt_without_an_outcome_past_its_deadline_is_lost_and_sent_again(
        world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    _outcome(world, execution_id, "started")
    world.clock.advance(20 + 29)  # the action's timeout plus less than the grace
    assert world.dispatcher.reap_lost() == 0
    world.clock.advance(2)
    assert world.dispatcher.reap_lost() == 1
    assert world.dispatcher.sweep().sent == 1
    record = world.events.get_execution("acme", execution_id)
    assert [(a.status, a.trigger) for a in record.attempts] == [("lost", "first"),
                                                                 ("sent", "lost")]


def test_sent_attempt_that_never_starts_is_lost_after_the_start_allowance(
        world: World) -> None:
    execution_id = _ingest(world)
    world.dispatcher.sweep()
    world.clock.advance(60 + 30 + 20 - 1)
    assert world.dispatcher.reap_lost() == 0
    world.clock.advance(2)
    assert world.dispatcher.reap_lost() == 1
    assert world.events.get_execution("acme", execution_id).status == "retrying"


def test_execution_lost_again_and_again_is_dead(world: World) -> None:
    execution_id = _ingest(world)
    for _ in range(world.dispatcher.max_lost):
        world.dispatcher.sweep()
        world.clock.advance(3600)
        world.dispatcher.reap_lost()
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "dead" and "lost" in (record.error or "")
