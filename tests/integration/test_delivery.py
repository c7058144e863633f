"""The whole path with real parts: database, broker (embedded or Redis), a `celery worker`
subprocess, the `hubctl dispatcher` subprocess, and real receivers that check credentials."""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hub.errors import Conflict
from tests.integration.processes import wait_for
from tests.integration.receivers import running_webhook
from tests.integration.stack import Stack
from tests.sinks.sink_receivers import PASSWORD, USERNAME, free_port, running_smtp_receiver

pytestmark = pytest.mark.integration

BOTH = pytest.mark.parametrize(
    ("database_url", "broker_kind"), [("sqlite", "embedded"), ("postgresql", "redis")],
    indirect=True, ids=["embedded-sqlite", "redis-postgresql"])


def fresh_token() -> str:
    return "tok-" + secrets.token_urlsafe(24)


def webhook_action(stack: Stack, url: str, *, tries: int = 1, backoff: float = 0.2,
                   timeout: float = 20.0) -> None:
    stack.tenant("acme")
    stack.event_type("acme", "order.created")
    stack.action("acme", "notify", "http", [
        {"name": "url", "type": "STRING", "value": url},
        {"name": "auth_token", "type": "SECRET", "value": "API_TOKEN"},
        {"name": "body", "type": "JSON", "value": {"hello": "world"}},
    ], timeout=timeout, tries=tries, backoff=backoff)
    stack.automation("acme", "on-order", "order.created", "notify")


@BOTH
def test_http_delivery_carries_the_stored_token_and_the_idempotency_key(stack: Stack) -> None:
    token = fresh_token()
    with running_webhook(token) as hook:
        webhook_action(stack, hook.url)
        stack.secret("acme", "API_TOKEN", token)
        stack.start()
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        record = stack.wait("acme", execution.id, "succeeded")
    assert hook.delivered == [record.idempotency_key]
    assert [use.label for use in record.attempts[0].secrets] == ["API_TOKEN@1"]


@BOTH
def test_killed_pool_process_gets_the_message_again_and_the_receiver_counts_one_delivery(
        stack: Stack) -> None:
    token = fresh_token()
    with running_webhook(token) as hook:
        hook.hold = threading.Event()
        webhook_action(stack, hook.url)
        stack.secret("acme", "API_TOKEN", token)
        stack.start()
        worker = stack.processes.started[0]
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        wait_for(hook.hold.is_set, timeout=30, what="the sink to block in the receiver")
        for child in worker.children():
            os.kill(child, signal.SIGKILL)
        hook.release.set()  # the redelivered request goes straight through
        record = stack.wait("acme", execution.id, "succeeded")
    key = record.idempotency_key
    assert hook.seen[key] == 2, "the message was delivered to the receiver twice"
    assert hook.delivered == [key], "but the receiver counted one delivery"


@BOTH
def test_retry_resolves_again_and_picks_up_a_rotated_secret(stack: Stack) -> None:
    old, new = fresh_token(), fresh_token()
    with running_webhook(old) as hook:
        hook.fail_first = 1
        webhook_action(stack, hook.url, tries=2, backoff=3.0)
        stack.secret("acme", "API_TOKEN", old)
        stack.start()
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        stack.wait("acme", execution.id, "retrying")
        stack.secret("acme", "API_TOKEN", new)
        hook.token = new
        record = stack.wait("acme", execution.id, "succeeded")
    labels = [[use.label for use in a.secrets] for a in record.attempts]
    assert labels == [["API_TOKEN@1"], ["API_TOKEN@2"]]
    assert [a.trigger for a in record.attempts] == ["first", "retry"]
    assert hook.authorizations[-1] == f"Bearer {new}"


@BOTH
def test_forced_delete_of_a_referenced_secret_fails_the_next_execution_precisely(
        stack: Stack) -> None:
    with running_webhook(fresh_token()) as hook:
        webhook_action(stack, hook.url)
        stack.secret("acme", "API_TOKEN", fresh_token())
        with pytest.raises(Conflict) as refused:
            stack.hub.secrets.delete(stack.tenant_ids["acme"], "API_TOKEN", actor="test")
        assert "auth_token" in str(refused.value.details) + refused.value.message
        stack.hub.secrets.delete(stack.tenant_ids["acme"], "API_TOKEN", actor="test",
                                 force=True)
        stack.start()
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        record = stack.wait("acme", execution.id, "failed")
    assert record.error == ("secret 'API_TOKEN' not found for parameter 'auth_token' "
                            "of action 'notify' in tenant 'acme'")
    assert hook.seen == {}, "nothing was sent"


@pytest.mark.parametrize(("database_url", "broker_kind"), [("sqlite", "embedded")],
                         indirect=True)
def test_umbrella_secret_reaches_an_inheriting_tenant_and_usage_names_its_source(
        stack: Stack) -> None:
    token = fresh_token()
    with running_webhook(token) as hook:
        umbrella = stack.tenant("holding")
        stack.secret("holding", "API_TOKEN", token)
        stack.tenant("acme", umbrella="holding")
        stack.event_type("acme", "order.created")
        stack.action("acme", "notify", "http", [
            {"name": "url", "type": "STRING", "value": hook.url},
            {"name": "auth_token", "type": "SECRET", "value": "API_TOKEN"}])
        stack.automation("acme", "on-order", "order.created", "notify")
        stack.start()
        [execution] = stack.send("acme", "order.created", {}).executions
        record = stack.wait("acme", execution.id, "succeeded")
    [use] = record.attempts[0].secrets
    assert (use.label, use.source_tenant_id) == ("API_TOKEN@1", umbrella)
    usage = stack.events.usage(umbrella, "API_TOKEN")
    assert [(u.execution_id, u.version) for u in usage] == [(execution.id, 1)]


@pytest.mark.parametrize(("database_url", "broker_kind"), [("sqlite", "embedded")],
                         indirect=True)
def test_smtp_delivery_logs_in_with_the_stored_password(stack: Stack) -> None:
    with running_smtp_receiver() as smtp:
        stack.tenant("acme")
        stack.secret("acme", "SMTP_PASSWORD", PASSWORD)
        stack.event_type("acme", "order.created")
        stack.action("acme", "mail", "smtp", [
            {"name": "host", "type": "STRING", "value": smtp.host},
            {"name": "port", "type": "NUMBER", "value": smtp.port},
            {"name": "tls", "type": "STRING", "value": "none"},
            {"name": "username", "type": "STRING", "value": USERNAME},
            {"name": "password", "type": "SECRET", "value": "SMTP_PASSWORD"},
            {"name": "from_address", "type": "STRING", "value": "hub@example.org"},
            {"name": "to", "type": "JSON", "value": ["ops@example.org"]},
            {"name": "subject", "type": "STRING", "value": "order {{ payload.order }}"},
            {"name": "body", "type": "STRING", "value": "hello"}])
        stack.automation("acme", "on-order", "order.created", "mail")
        stack.start()
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        record = stack.wait("acme", execution.id, "succeeded")
        assert smtp.logins == [USERNAME]
        assert len(smtp.envelopes) == 1
        content = smtp.envelopes[0].content
        assert isinstance(content, bytes)
        assert record.idempotency_key in content.decode()


@pytest.mark.parametrize(("database_url", "broker_kind"), [("postgresql", "redis")],
                         indirect=True)
def test_sql_delivery_connects_with_the_stored_url_to_postgresql(stack: Stack,
                                                                 database_url: str) -> None:
    table = f"sink_{uuid.uuid4().hex[:10]}"
    target = create_engine(database_url)
    with target.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (order_id INTEGER, "
                          "delivery_key VARCHAR(200) UNIQUE)"))
    try:
        stack.tenant("acme")
        stack.secret("acme", "DB_URL", database_url)
        stack.event_type("acme", "order.created")
        stack.action("acme", "store", "sql", [
            {"name": "url", "type": "SECRET", "value": "DB_URL"},
            {"name": "table", "type": "STRING", "value": table},
            {"name": "columns", "type": "JSON", "value": {"order_id": "order"}},
            {"name": "idempotency_column", "type": "STRING", "value": "delivery_key"}])
        stack.automation("acme", "on-order", "order.created", "store")
        stack.start()
        [execution] = stack.send("acme", "order.created", {"order": 7}).executions
        record = stack.wait("acme", execution.id, "succeeded")
        with target.connect() as conn:
            rows = conn.execute(text(f"SELECT order_id, delivery_key FROM {table}")).all()
        assert [tuple(row) for row in rows] == [(7, record.idempotency_key)]
    finally:
        with target.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        target.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_events_accepted_while_the_broker_is_down_are_sent_when_it_returns(
        database_url: str, tmp_path: Path) -> None:
    port = free_port()
    stack = Stack.build(tmp_path, database_url=database_url,
                        broker_url=f"redis://127.0.0.1:{port}/0")
    try:
        token = fresh_token()
        with running_webhook(token) as hook:
            webhook_action(stack, hook.url)
            stack.secret("acme", "API_TOKEN", token)
            stack.processes.dispatcher()
            [execution] = stack.send("acme", "order.created", {"order": 7}).executions
            time.sleep(2)  # several sweeps find the broker down
            record = stack.execution("acme", execution.id)
            assert (record.status, record.attempts) == ("queued", ())
            stack.processes.start("redis", ["redis-server", "--port", str(port),
                                            "--bind", "127.0.0.1", "--save", "",
                                            "--appendonly", "no"])
            stack.processes.worker()
            record = stack.wait("acme", execution.id, "succeeded")
        assert hook.delivered == [record.idempotency_key]
    finally:
        stack.close()
