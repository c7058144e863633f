"""Ingest, the execution queries, replay and secret usage (hub.events)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from hub import audit
from hub.errors import Conflict, InvalidInput, NotFound
from hub.executions import Event, Execution
from tests.hub.event_world import ACTOR, World


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return World.build(engine, tmp_path)


def _count(world: World, model: type) -> int:
    with world.events.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_ingest_stores_one_queued_execution_per_matching_automation(world: World) -> None:
    world.webhook(action="notify")
    world.automations.create_action("acme", name="audit-log", sink="log", actor=ACTOR)
    world.automations.create_automation("acme", name="also-log", event_type="order.created",
                                        action="audit-log", actor=ACTOR)
    result = world.events.ingest("acme", "order.created", {"order": 7}, actor=ACTOR)
    assert not result.duplicate
    assert sorted((e.action, e.status) for e in result.executions) == [
        ("audit-log", "queued"), ("notify", "queued")]
    record = world.events.get_execution("acme", result.executions[0].id)
    assert record.event_id == result.event_id
    assert record.idempotency_key == record.id
    assert record.attempts == ()


def test_disabled_automation_gets_no_execution(world: World) -> None:
    world.webhook()
    world.automations.update_automation("acme", "on-notify", event_type="order.created",
                                        action="notify", enabled=False, actor=ACTOR)
    result = world.events.ingest("acme", "order.created", {"order": 7}, actor=ACTOR)
    assert result.executions == ()
    assert _count(world, Event) == 1


def test_same_idempotency_key_returns_the_first_event_and_stores_nothing_new(
        world: World) -> None:
    world.webhook()
    first = world.events.ingest("acme", "order.created", {"order": 7},
                                idempotency_key="order-7", actor=ACTOR)
    again = world.events.ingest("acme", "order.created", {"order": 8},
                                idempotency_key="order-7", actor=ACTOR)
    assert again.duplicate and again.event_id == first.event_id
    assert again.executions == first.executions
    assert (_count(world, Event), _count(world, Execution)) == (1, 1)


def test_idempotency_keys_are_per_tenant(world: World) -> None:
    world.webhook("acme")
    world.webhook("globex")
    a = world.events.ingest("acme", "order.created", {"order": 1}, idempotency_key="k",
                            actor=ACTOR)
    b = world.events.ingest("globex", "order.created", {"order": 1}, idempotency_key="k",
                            actor=ACTOR)
    assert a.event_id != b.event_id and not b.duplicate


def test_overlong_idempotency_key_is_refused(world: World) -> None:
    world.webhook()
    with pytest.raises(InvalidInput):
        world.events.ingest("acme", "order.created", {}, idempotency_key="k" * 201,
                            actor=ACTOR)


def test_unknown_event_type_is_refused_and_nothing_is_stored(world: World) -> None:
    world.webhook()
    with pytest.raises((NotFound, InvalidInput)):
        world.events.ingest("acme", "no.such.type", {}, actor=ACTOR)
    assert _count(world, Event) == 0


def test_execution_of_another_tenant_is_not_found(world: World) -> None:
    world.webhook("acme")
    world.tenants.create("globex", actor=ACTOR)
    [execution] = world.events.ingest("acme", "order.created", {"order": 1},
                                      actor=ACTOR).executions
    with pytest.raises(NotFound):
        world.events.get_execution("globex", execution.id)
    assert world.events.list_executions("globex") == []


def test_list_executions_filters_by_status_action_and_time(world: World) -> None:
    world.webhook(action="notify")
    world.events.ingest("acme", "order.created", {"order": 1}, actor=ACTOR)
    world.clock.advance(60)
    later = world.clock()
    second = world.events.ingest("acme", "order.created", {"order": 2}, actor=ACTOR)
    assert [r.id for r in world.events.list_executions("acme", since=later)] == [
        second.executions[0].id]
    assert len(world.events.list_executions("acme", status="queued", action="notify")) == 2
    assert world.events.list_executions("acme", status="failed") == []
    with pytest.raises(InvalidInput):
        world.events.list_executions("acme", status="bogus")


def test_replay_of_an_unfinished_execution_is_refused(world: World) -> None:
    world.webhook()
    [execution] = world.events.ingest("acme", "order.created", {"order": 1},
                                      actor=ACTOR).executions
    with pytest.raises(Conflict):
        world.events.replay("acme", execution.id, actor=ACTOR)


def test_replay_queues_a_finished_execution_again_and_audits_who_asked(world: World) -> None:
    world.webhook(key="MISSING")  # the first attempt fails: the secret does not exist
    [execution] = world.events.ingest("acme", "order.created", {"order": 1},
                                      actor=ACTOR).executions
    world.dispatcher.sweep()
    assert world.events.get_execution("acme", execution.id).status == "failed"
    world.secrets.set("acme", "MISSING", "now-it-exists-0001", actor=ACTOR)
    replayed = world.events.replay("acme", execution.id, actor="operator-ann")
    assert replayed.status == "queued"
    world.dispatcher.sweep()
    record = world.events.get_execution("acme", execution.id)
    assert record.status == "running"
    assert [(a.number, a.trigger, a.actor) for a in record.attempts] == [
        (1, "first", None), (2, "replay", "operator-ann")]
    with world.events.sessions() as session:
        tenant_id = world.tenants.get("acme").id
        [entry] = audit.entries(session, tenant_id, action="execution.replay")
        assert (entry.actor, entry.target) == ("operator-ann", execution.id)


def test_usage_lists_which_attempt_received_which_version(world: World) -> None:
    world.webhook(key="API_TOKEN")
    world.secrets.set("acme", "API_TOKEN", "first-value-0001", actor=ACTOR)
    [first] = world.events.ingest("acme", "order.created", {"order": 1},
                                  actor=ACTOR).executions
    world.dispatcher.sweep()
    world.clock.advance(1)
    world.secrets.set("acme", "API_TOKEN", "second-value-0002", actor=ACTOR)
    [second] = world.events.ingest("acme", "order.created", {"order": 2},
                                   actor=ACTOR).executions
    world.dispatcher.sweep()
    usage = world.events.usage("acme", "API_TOKEN")
    assert [(u.execution_id, u.version, u.parameter) for u in usage] == [
        (second.id, 2, "auth_token"), (first.id, 1, "auth_token")]
    assert world.events.usage("acme", "OTHER_KEY") == []
    assert usage[0].at - usage[1].at == timedelta(seconds=1)
