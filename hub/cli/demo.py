"""`hubctl demo`: a small working setup in the token's tenant, and one event sent through it.

It makes a secret, an event type, an action on the `log` sink whose message is that secret,
and an automation joining them; then it sends one event and waits (up to `--wait` seconds)
for the execution to finish. Running it again reuses the secret and replaces the definitions,
so the demo is safe to repeat. The log line shows the secret masked by the scrubber.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

import typer

from hub.cli.client import ApiError, HubClient, session
from hub.cli.definitions import apply_one
from hub.cli.output import key_at_version, say

DEMO_KEY = "demo-greeting"
DEMO_EVENT_TYPE = "demo.order"
DEMO_ACTION = "demo-log"
DEMO_AUTOMATION = "demo-orders"
FINISHED = ("succeeded", "failed", "dead")
POLL_SECONDS = 0.25


def demo(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option(
        min=0, help="Seconds to wait for the delivery (needs a dispatcher and a worker).")
    ] = 10.0,
) -> None:
    """Set up a small demo in the token's tenant and send one event through it."""
    with session(ctx) as hub:
        _demo_secret(hub)
        for path, document in _demo_definitions():
            verb, saved = apply_one(hub, path, document)
            say(f"{verb} {path[:-1].replace('-', ' ')} {saved['name']!r}.")
        accepted = hub.post("/events", {"type": DEMO_EVENT_TYPE,
                                        "payload": {"order": 1001, "total": 42.5}})
        say(f"Sent a {DEMO_EVENT_TYPE!r} event: {accepted['id']}.")
        for brief in accepted["executions"]:
            detail = _await_finish(hub, brief["id"], wait)
            received = ", ".join(map(key_at_version, detail["secrets"]))
            say(f"Execution {detail['id']} ({detail['action']}): {detail['status']}"
                + (f", received {received}" if received else "")
                + (f": {detail['error']}" if detail.get("error") else "") + ".")
        say("See them with `hubctl executions list`; the log sink's line shows the secret "
            "masked by the scrubber.")


def _demo_secret(hub: HubClient) -> None:
    value = "demo greeting " + secrets.token_hex(8)
    try:
        created = hub.post("/secrets", {"key": DEMO_KEY, "value": value,
                                        "description": "made by hubctl demo"})
        say(f"Created secret {DEMO_KEY!r} (version {created['version']}).")
    except ApiError as exc:
        if exc.status != 409:
            raise
        say(f"Secret {DEMO_KEY!r} exists already; using it.")


def _demo_definitions() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("event-types", {"name": DEMO_EVENT_TYPE, "parameters": [],
                         "schema": {"type": "object", "required": ["order"],
                                    "properties": {"order": {"type": "integer"}}}}),
        ("actions", {"name": DEMO_ACTION, "sink": "log", "parameters": [
            {"name": "message", "type": "SECRET", "value": DEMO_KEY},
            {"name": "level", "type": "STRING", "value": "INFO"}]}),
        ("automations", {"name": DEMO_AUTOMATION, "event_type": DEMO_EVENT_TYPE,
                         "action": DEMO_ACTION, "enabled": True}),
    ]


def _await_finish(hub: HubClient, execution_id: str, wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        detail: dict[str, Any] = hub.get(f"/executions/{execution_id}")
        if detail["status"] in FINISHED or time.monotonic() >= deadline:
            return detail
        time.sleep(POLL_SECONDS)
