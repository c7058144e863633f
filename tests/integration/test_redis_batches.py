"""The dispatcher's batched broker traffic on a real Redis: deliveries go out in one flush,
outcomes are acknowledged in one pipeline, and neither loses or leaks anything."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis

from hub.broker import DELIVERY_QUEUE, OUTCOME_QUEUE, make_celery, outcome_connection
from hub.config import Settings, load_settings
from hub.dispatch import CelerySender
from hub.dispatch_loop import OutcomeInbox


@pytest.fixture
def prefixed(redis_url: str) -> Iterator[tuple[Settings, redis.Redis, str]]:
    prefix = f"hubtest-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(redis_url)
    try:
        yield load_settings(broker_url=f"{redis_url}?global_keyprefix={prefix}"), client, prefix
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def test_sender_batch_reaches_redis_only_when_the_block_ends_with_name_only_reprs(
        prefixed: tuple[Settings, redis.Redis, str]) -> None:
    settings, client, prefix = prefixed
    sender = CelerySender(make_celery(settings, sender=True))
    queue = f"{prefix}{DELIVERY_QUEUE}"
    with sender.batch():
        for n in range(5):
            sender.send({"execution_id": f"e{n}", "sealed": "opaque"},
                        kwargsrepr=f"{{'execution_id': 'e{n}'}}", timeout=5.0)
        assert client.llen(queue) == 0, "buffered until the batch ends"
    raw = [json.loads(item) for item in client.lrange(queue, 0, -1)]
    assert len(raw) == 5
    headers = raw[0]["headers"]
    assert headers["task"] == "hub.deliver" and headers["argsrepr"] == "()"
    assert headers["kwargsrepr"].startswith("{'execution_id': 'e")
    assert headers["timelimit"] == [20.0, 7.0]


def _publish_outcomes(settings: Settings, count: int) -> None:
    with outcome_connection(settings) as conn, conn.Producer() as producer:
        for n in range(count):
            producer.publish({"execution_id": f"e{n}", "attempt": 1, "status": "succeeded"},
                             exchange="", routing_key=OUTCOME_QUEUE, serializer="json")


def test_outcomes_acknowledged_in_one_batch_are_gone_and_leave_no_unacked_entries(
        prefixed: tuple[Settings, redis.Redis, str]) -> None:
    settings, client, prefix = prefixed
    _publish_outcomes(settings, 3)
    inbox = OutcomeInbox(lambda: outcome_connection(settings))
    messages = inbox.drain(limit=10, timeout=2.0)
    assert sorted(m.payload["execution_id"] for m in messages) == ["e0", "e1", "e2"]
    inbox.acknowledge(messages)
    inbox.close()
    assert client.hlen(f"{prefix}unacked") == 0
    assert client.zcard(f"{prefix}unacked_index") == 0
    again = OutcomeInbox(lambda: outcome_connection(settings))
    assert again.drain(limit=10, timeout=0.3) == []
    again.close()


def test_outcomes_never_acknowledged_come_back_to_the_next_reader(
        prefixed: tuple[Settings, redis.Redis, str]) -> None:
    settings, _, _ = prefixed
    _publish_outcomes(settings, 2)
    inbox = OutcomeInbox(lambda: outcome_connection(settings))
    assert len(inbox.drain(limit=10, timeout=2.0)) == 2
    inbox.close()  # as if the commit had failed: nothing acknowledged
    again = OutcomeInbox(lambda: outcome_connection(settings))
    messages = again.drain(limit=10, timeout=2.0)
    assert len(messages) == 2
    again.acknowledge(messages)
    again.close()
