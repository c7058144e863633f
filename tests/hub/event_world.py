"""A small hub for the events, dispatch and outcome tests: real services on the test database,
a clock the test moves by hand, and a sender that keeps what the broker would have received."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hub import db
from hub.automations.service import AutomationService
from hub.config import load_settings
from hub.crypto import KeyRing
from hub.dispatch import Dispatcher
from hub.events import EventService
from hub.sealing import TransportKeys
from hub.tenants import TenantService
from tests.clock import FakeClock

ACTOR = "tester"
#: The value of the `API_TOKEN` secret of `dispatching_world()`.
TOKEN = "tok-9f8e7d6c5b4a-value"


@dataclass
class Sent:
    envelope: dict[str, Any]
    kwargsrepr: str
    timeout: float


@dataclass
class RecordingSender:
    """Stands where the broker is: keeps each message, or refuses like a broker that is down."""

    sent: list[Sent] = field(default_factory=list)
    down: bool = False

    def batch(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def send(self, envelope: Mapping[str, Any], *, kwargsrepr: str, timeout: float) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.sent.append(Sent(dict(envelope), kwargsrepr, timeout))


@dataclass
class World:
    clock: FakeClock
    tenants: TenantService
    automations: AutomationService
    events: EventService
    secrets: Any
    dispatcher: Dispatcher
    sender: RecordingSender
    keys: TransportKeys

    @classmethod
    def build(cls, engine: Engine, home: Path) -> World:
        from hub.secrets.store import SecretStore

        clock = FakeClock(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
        sessions = db.make_sessionmaker(engine)
        settings = load_settings(home=home, master_key=KeyRing([KeyRing.generate()]).serialize())
        keyring = KeyRing.parse(settings.master_key.get_secret_value(),  # type: ignore[union-attr]
                                source="test")
        secrets = SecretStore(sessions, keyring, settings, clock=clock)
        automations = AutomationService(sessions, clock=clock)
        sender = RecordingSender()
        keys = TransportKeys([TransportKeys.generate()])
        dispatcher = Dispatcher(sessions, secrets=secrets, automations=automations, keys=keys,
                                sender=sender, seal_ttl=timedelta(hours=1), clock=clock,
                                lost_grace=timedelta(seconds=30),
                                start_allowance=timedelta(seconds=60))
        return cls(clock=clock, tenants=TenantService(sessions, clock=clock),
                   automations=automations,
                   events=EventService(sessions, automations, clock=clock),
                   secrets=secrets, dispatcher=dispatcher, sender=sender, keys=keys)

    def webhook(self, tenant: str = "acme", *, action: str = "notify", key: str = "API_TOKEN",
                tries: int = 3, backoff: float = 10.0, event_type: str = "order.created",
                event_type_params: list[dict[str, Any]] | None = None,
                action_params: list[dict[str, Any]] | None = None) -> None:
        """Tenant (if new), event type, an http action using secret `key`, an automation."""
        if tenant not in {t.name for t in self.tenants.list()}:
            self.tenants.create(tenant, actor=ACTOR)
        self.automations.create_event_type(tenant, name=event_type,
                                           parameters=event_type_params or [], actor=ACTOR)
        params = action_params if action_params is not None else [
            {"name": "auth_token", "type": "SECRET", "value": key}]
        self.automations.create_action(
            tenant, name=action, sink="http", actor=ACTOR, timeout=20,
            retry={"attempts": tries, "backoff": backoff},
            parameters=[{"name": "url", "type": "STRING",
                         "value": "https://example.org/hook/{{ payload.order }}"}, *params])
        self.automations.create_automation(tenant, name=f"on-{action}", event_type=event_type,
                                           action=action, actor=ACTOR)


def dispatching_world(engine: Engine, home: Path) -> World:
    """A world with a webhook action on `order.created` (3 tries, 10 s backoff) whose secret
    parameter reads `API_TOKEN`, which holds `TOKEN`: where dispatch and outcome tests start."""
    world = World.build(engine, home)
    world.webhook(tries=3, backoff=10.0)
    world.secrets.set("acme", "API_TOKEN", TOKEN, actor=ACTOR)
    return world


def ingest(world: World, order: int = 7) -> str:
    """Ingest one `order.created` event for `acme`; the id of its one execution."""
    [execution] = world.events.ingest("acme", "order.created", {"order": order},
                                      actor=ACTOR).executions
    return execution.id


def outcome(world: World, execution_id: str, status: str, *, attempt: int = 1,
            **facts: Any) -> int:
    """Report one worker outcome to the world's dispatcher, timed by the world's clock."""
    return world.dispatcher.record_outcomes([{
        "execution_id": execution_id, "attempt": attempt, "status": status,
        "started_at": world.clock().isoformat(), "finished_at": world.clock().isoformat(),
        **facts}])
