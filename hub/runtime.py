"""The composition root: builds the hub's services from settings, once per process.

The CLI, the API server and the dispatcher all start here, so every process wires the same
parts in the same way: settings -> engine (schema checked) -> key ring (checked against the
database) -> services. Services never build each other; they receive what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.config import Settings

if TYPE_CHECKING:
    from hub.automations.service import AutomationService
    from hub.crypto import KeyRing
    from hub.events import EventService
    from hub.secrets.store import SecretStore
    from hub.tenants import TenantService
    from hub.tokens import TokenService

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; everything else receives a clock so tests can pass their own."""
    return datetime.now(UTC)


@dataclass
class Hub:
    """Every service of one hub process, built lazily from one `Settings`."""

    settings: Settings
    engine: Engine
    clock: Clock = utc_now

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return db.make_sessionmaker(self.engine)

    @cached_property
    def keyring(self) -> KeyRing:
        from hub.secrets.store import open_keyring

        return open_keyring(self.engine, self.settings)

    @cached_property
    def tenants(self) -> TenantService:
        from hub.tenants import TenantService

        return TenantService(self.sessions, clock=self.clock)

    @cached_property
    def secrets(self) -> SecretStore:
        from hub.references import find_references
        from hub.secrets.store import SecretStore, open_keyring

        return SecretStore(
            self.sessions, self.keyring, self.settings, clock=self.clock,
            references=find_references,
            # After `hubctl keys rotate`, a long-running process re-reads the ring instead
            # of failing on values rewrapped under the new key.
            reload_keyring=lambda: open_keyring(self.engine, self.settings),
        )

    @cached_property
    def tokens(self) -> TokenService:
        from hub.tokens import TokenService

        return TokenService(self.sessions, clock=self.clock)

    @cached_property
    def automations(self) -> AutomationService:
        from hub.automations.service import AutomationService

        return AutomationService(self.sessions, clock=self.clock)

    @cached_property
    def events(self) -> EventService:
        from hub.events import EventService

        return EventService(self.sessions, self.automations, clock=self.clock)

    def close(self) -> None:
        self.engine.dispose()


def open_hub(settings: Settings, *, clock: Clock = utc_now, check_schema: bool = True) -> Hub:
    """Connect to the configured database and refuse to go on if its schema is behind."""
    settings.ensure_home()
    engine = db.make_engine(settings.effective_database_url)
    if check_schema:
        db.require_current_schema(engine)
    return Hub(settings=settings, engine=engine, clock=clock)
