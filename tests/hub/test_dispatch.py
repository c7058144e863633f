"""Resolve, seal, send: the outbox sweep (hub.dispatch)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from hub.errors import CryptoError
from hub.sealing import unseal
from tests.hub.event_world import ACTOR, TOKEN, World, dispatching_world, ingest


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return dispatching_world(engine, tmp_path)


def test_due_execution_is_sent_with_the_value_sealed_and_only_names_in_the_repr(
        world: World) -> None:
    execution_id = ingest(world)
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
    execution_id = ingest(world)
    world.dispatcher.sweep()
    with pytest.raises(CryptoError):
        unseal(world.sender.sent[0].envelope["sealed"], keys=world.keys,
               execution_id=execution_id, attempt=2, now=world.clock())


def test_sent_attempt_records_key_at_version_and_the_execution_runs(world: World) -> None:
    execution_id = ingest(world)
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
    execution_id = ingest(world)
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
    ids = [ingest(world, order) for order in (1, 2, 3)]
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
    ingest(world)
    jobs = world.dispatcher._claim()
    assert len(jobs) == 1
    assert world.dispatcher.sweep().sent == 0
    world.clock.advance(world.dispatcher.lease.total_seconds() + 1)
    assert world.dispatcher.sweep().sent == 1


def test_an_undecryptable_secret_fails_its_executions_without_stalling_the_sweep(
        world: World) -> None:
    from hub.crypto import KeyRing, MasterKey

    execution_id = ingest(world)
    # The right key id with the wrong material: the stored value no longer opens.
    world.secrets.keyring = KeyRing([MasterKey(world.secrets.keyring.primary_id, b"\x01" * 32)])
    report = world.dispatcher.sweep()
    assert (report.sent, report.failed) == (0, 1)
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "failed"
    assert record.error == "cannot resolve the secrets of action 'notify': decryption failed"
    assert world.sender.sent == []
