"""Worker outcomes, retries, lost attempts, and the dispatcher's second scrubbing net
(hub.outcomes)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hub.dispatch import Dispatcher
from hub.executions import Attempt
from hub.logging import Scrubber, configure
from hub.sealing import unseal
from hub.secrets.store import Resolved, SecretStore
from tests.hub.event_world import ACTOR, TOKEN, World, dispatching_world, ingest, outcome
from tests.hub.logging.leaks import leaked


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return dispatching_world(engine, tmp_path)


def test_started_then_succeeded_outcomes_finish_the_execution(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    assert outcome(world, execution_id, "started") == 1
    assert world.events.get_execution("acme", execution_id).attempts[0].status == "running"
    assert outcome(world, execution_id, "succeeded", summary="POST 201",
                    details={"status": 201}) == 1
    record = world.events.get_execution("acme", execution_id)
    assert (record.status, record.result_summary) == ("succeeded", "POST 201")
    assert record.finished_at == world.clock()


def test_permanent_failure_outcome_fails_the_execution_with_its_error(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "failed", error="HTTP 403 from the receiver")
    record = world.events.get_execution("acme", execution_id)
    assert (record.status, record.error) == ("failed", "HTTP 403 from the receiver")


def test_retryable_outcome_schedules_the_next_attempt_after_exponential_backoff(
        world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "retry", error="HTTP 503")
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "retrying"
    assert record.next_attempt_at == world.clock() + timedelta(seconds=10)
    world.clock.advance(9)
    assert world.dispatcher.sweep().sent == 0
    world.clock.advance(1)
    assert world.dispatcher.sweep().sent == 1
    outcome(world, execution_id, "retry", attempt=2, error="HTTP 503")
    record = world.events.get_execution("acme", execution_id)
    assert record.next_attempt_at == world.clock() + timedelta(seconds=20)


def test_receivers_retry_after_hint_lengthens_the_backoff(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "retry", error="HTTP 429", retry_after=120)
    record = world.events.get_execution("acme", execution_id)
    assert record.next_attempt_at == world.clock() + timedelta(seconds=120)


def test_retry_resolves_again_and_records_the_rotated_version(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "retry", error="HTTP 503")
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
    execution_id = ingest(world)
    for attempt in (1, 2, 3):
        world.dispatcher.sweep()
        outcome(world, execution_id, "retry", attempt=attempt, error="HTTP 503")
        world.clock.advance(3600)
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "dead"
    assert "HTTP 503" in (record.error or "")
    assert len(record.attempts) == 3


def test_outcomes_for_an_old_attempt_or_a_finished_one_are_ignored(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "retry", error="HTTP 503")
    world.clock.advance(10)
    world.dispatcher.sweep()
    assert outcome(world, execution_id, "succeeded", attempt=1) == 0, "old attempt"
    assert outcome(world, execution_id, "succeeded", attempt=2) == 1
    assert outcome(world, execution_id, "failed", attempt=2, error="late") == 0, "duplicate"
    assert world.events.get_execution("acme", execution_id).status == "succeeded"


def test_malformed_outcomes_are_ignored_without_failing_the_batch(world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcomes: list[Any] = [
        {"nonsense": True}, "text", {"execution_id": execution_id, "attempt": "x",
                                     "status": "succeeded"},
        {"execution_id": execution_id, "attempt": 1, "status": "succeeded"}]
    applied = world.dispatcher.record_outcomes(outcomes)
    assert applied == 1


def test_error_text_is_scrubbed_of_resolved_values_by_the_dispatcher_too(
        world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "failed", error=f"the receiver said: bad token {TOKEN}")
    record = world.events.get_execution("acme", execution_id)
    assert TOKEN not in (record.error or "") and "bad token" in (record.error or "")


def test_running_attempt_without_an_outcome_past_its_deadline_is_lost_and_sent_again(
        world: World) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    outcome(world, execution_id, "started")
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
    execution_id = ingest(world)
    world.dispatcher.sweep()
    world.clock.advance(60 + 30 + 20 - 1)
    assert world.dispatcher.reap_lost() == 0
    world.clock.advance(2)
    assert world.dispatcher.reap_lost() == 1
    assert world.events.get_execution("acme", execution_id).status == "retrying"


def test_execution_lost_again_and_again_is_dead(world: World) -> None:
    execution_id = ingest(world)
    for _ in range(world.dispatcher.max_lost):
        world.dispatcher.sweep()
        world.clock.advance(3600)
        world.dispatcher.reap_lost()
    record = world.events.get_execution("acme", execution_id)
    assert record.status == "dead" and "lost" in (record.error or "")


# -- the second net after a restart ------------------------------------------------------------


class _CountingStore:
    """The world's store, counting the lookups (each one decrypts)."""

    def __init__(self, store: SecretStore) -> None:
        self.store = store
        self.lookups = 0

    def resolve_present(self, tenant: str, keys: Any) -> dict[str, Resolved]:
        self.lookups += 1
        return self.store.resolve_present(tenant, keys)


def _restart(world: World, monkeypatch: pytest.MonkeyPatch) -> _CountingStore:
    """Stand a fresh dispatcher process in for the world's: its scrubber knows no value."""
    monkeypatch.setattr(configure, "_SCRUBBER", Scrubber(background=False))
    old, store = world.dispatcher, _CountingStore(world.secrets)
    world.dispatcher = Dispatcher(old.sessions, secrets=store,  # type: ignore[arg-type]
                                  automations=old.automations, keys=old.keys,
                                  sender=old.sender, seal_ttl=old.seal_ttl, clock=old.clock)
    return store


def _stored_texts(world: World, execution_id: str) -> str:
    with world.events.sessions() as session:
        attempt = session.scalars(select(Attempt).where(
            Attempt.execution_id == execution_id)).one()
        return json.dumps([attempt.error, attempt.summary, attempt.details])


def test_restarted_dispatcher_scrubs_every_form_of_an_attempts_secret_from_its_error(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    _restart(world, monkeypatch)
    encoded = base64.b64encode(TOKEN.encode()).decode()
    outcome(world, execution_id, "failed",  # a worker that failed to scrub its error
            error=f"HTTP 401 for {TOKEN} (as Basic {encoded}, hex {TOKEN.encode().hex()})")
    record = world.events.get_execution("acme", execution_id)
    assert "HTTP 401 for" in (record.error or "")
    assert leaked(_stored_texts(world, execution_id), TOKEN) == set()
    assert leaked(record.error or "", TOKEN) == set()


def test_restarted_dispatcher_scrubs_an_attempts_secret_from_its_summary_and_details(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    execution_id = ingest(world)
    world.dispatcher.sweep()
    _restart(world, monkeypatch)
    outcome(world, execution_id, "succeeded", summary=f"POST 200 echoed {TOKEN}",
            details={"echo": TOKEN, TOKEN: [f"token={TOKEN}"]})
    stored = _stored_texts(world, execution_id)
    assert "POST 200 echoed" in stored
    assert leaked(stored, TOKEN) == set()


def test_restarted_dispatcher_resolves_an_attempts_secrets_once_not_per_outcome(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third, quiet = (ingest(world, order) for order in (1, 2, 3, 4))
    world.dispatcher.sweep()
    store = _restart(world, monkeypatch)
    outcome(world, quiet, "succeeded")
    assert store.lookups == 0, "an outcome without text needs no value"
    outcome(world, first, "failed", error="HTTP 500")
    outcome(world, second, "failed", error="HTTP 500")
    assert store.lookups == 1
    world.clock.advance(world.dispatcher.seal_ttl.total_seconds() + 1)
    outcome(world, third, "failed", error="HTTP 500")
    assert store.lookups == 2, "registered again before the scrubber may forget it"

