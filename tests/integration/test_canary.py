"""The canary: a fresh secret value goes through the whole path, including sinks that fail
with the value in their error text, while everything observable is captured. The value and
its URL, base64 and JSON forms appear nowhere: not on the broker (Redis MONITOR sees every
command), not in any process's output, not in the database dump, not in any service-level
record (events, executions, attempts, usage, audit)."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import urllib.parse
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import tests.integration.leaky_sink  # noqa: F401 (registers the sink here too, for the action)
from hub import audit
from hub.logging import REDACTED
from tests.integration.processes import wait_for
from tests.integration.receivers import running_webhook
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


def forms(value: str) -> dict[str, str]:
    return {
        "plain": value,
        "url": urllib.parse.quote(value, safe=""),
        "url-plus": urllib.parse.quote_plus(value),
        "base64": base64.b64encode(value.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
        "json": json.dumps(value)[1:-1],
    }


def assert_nowhere(value: str, where: str, haystack: str) -> None:
    for name, form in forms(value).items():
        assert form not in haystack, f"the {name} form of the canary appears in {where}"


def dump_database(stack: Stack, database_url: str, folder: Path) -> str:
    if database_url.startswith("postgresql"):
        plain = database_url.replace("postgresql+psycopg://", "postgresql://")
        return subprocess.run(["pg_dump", "--data-only", plain], capture_output=True,
                              text=True, check=True, timeout=60).stdout
    with stack.hub.engine.connect() as conn:
        tables = [row[0] for row in conn.execute(
            text("SELECT name FROM sqlite_master WHERE type='table'"))]
        return "\n".join(repr(row) for table in tables
                         for row in conn.execute(text(f'SELECT * FROM "{table}"')))


@pytest.mark.parametrize(("database_url", "broker_kind"), [("postgresql", "redis")],
                         indirect=True)
def test_canary_value_appears_in_no_log_message_dump_or_record(
        stack: Stack, database_url: str, redis_url: str, tmp_path: Path) -> None:
    # Characters that make every encoding differ from the plain text.
    canary = "cAn4ry+/" + secrets.token_urlsafe(18) + "&q=1%"
    monitor_log = tmp_path / "monitor.log"
    with monitor_log.open("wb") as out:
        monitor = subprocess.Popen(["redis-cli", "-u", redis_url.split("?")[0], "monitor"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: monitor_log.read_bytes().startswith(b"OK"), timeout=10,
                 what="redis-cli monitor to attach")
        with running_webhook(canary) as good, running_webhook(canary) as careless:
            careless.echo_errors = True
            stack.tenant("acme")
            stack.secret("acme", "API_TOKEN", canary)
            stack.event_type("acme", "order.created")
            for name, sink, params in [
                ("notify", "http", [{"name": "url", "type": "STRING", "value": good.url}]),
                ("echo", "http", [{"name": "url", "type": "STRING", "value": careless.url}]),
                ("leak", "leaky", []),
            ]:
                secret_name = "token" if sink == "leaky" else "auth_token"
                stack.action("acme", name, sink,
                             [*params, {"name": secret_name, "type": "SECRET",
                                        "value": "API_TOKEN"}], tries=2, backoff=0.2)
                stack.automation("acme", f"on-{name}", "order.created", name)
            stack.start(include=("tests.integration.leaky_sink",))
            result = stack.send("acme", "order.created", {"order": 7})
            by_action = {e.action: e.id for e in result.executions}
            done = {action: stack.wait("acme", execution_id, "succeeded", "failed", "dead")
                    for action, execution_id in by_action.items()}
        assert done["notify"].status == "succeeded"
        assert good.authorizations == [f"Bearer {canary}"], "the canary did arrive"
        assert (done["echo"].status, done["leak"].status) == ("dead", "dead"), done["leak"].error
        assert all(a.error for a in done["leak"].attempts), "the failures were recorded"
        time.sleep(0.5)  # let the last MONITOR lines land
    finally:
        monitor.terminate()
        monitor.wait(10)

    monitor_text = monitor_log.read_text(errors="replace")
    assert "hub.deliver" in monitor_text or "hub.deliveries" in monitor_text, \
        "MONITOR saw the deliveries"
    assert_nowhere(canary, "the Redis MONITOR output", monitor_text)
    outputs = stack.processes.outputs()
    assert f"leaky sink got {REDACTED}" in outputs, "the leak was tried, captured and masked"
    assert_nowhere(canary, "the processes' output", outputs)
    assert_nowhere(canary, "the database dump", dump_database(stack, database_url, tmp_path))
    tenant = stack.tenant_ids["acme"]
    records: list[Any] = [
        stack.events.get_event(tenant, result.event_id),
        *[stack.events.get_execution(tenant, e) for e in by_action.values()],
        *stack.events.list_executions(tenant),
        *stack.events.usage(tenant, "API_TOKEN"),
    ]
    with stack.hub.sessions() as session:
        audit_rows = [{c: getattr(e, c) for c in ("actor", "action", "target", "details")}
                      for e in audit.entries(session, tenant, limit=1000)]
    records_text = json.dumps([asdict(r) for r in records] + audit_rows, default=str)
    assert "API_TOKEN" in records_text, "the records name the key"
    assert_nowhere(canary, "the service-level records", records_text)
