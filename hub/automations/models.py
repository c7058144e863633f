"""Tables of Event Types, Actions and Automations, and the read-only views the service returns.

Parameters are stored as JSON lists of `{name, type, value}` (already validated, `SECRET`
values are keys, never values); the secret keys they mention are also indexed row by row in
`hub.references` so "who uses this key" needs no JSON scan. Ids are UUID strings like the
rest of the hub's rows; names are unique per tenant, and `find_named` finds one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from hub.db import Base, UTCDateTime
from hub.errors import NotFound
from hub.names import KEY_LENGTH
from hub.parameters import ParameterSpec, parameters_from_json

__all__ = [
    "KIND",
    "Action",
    "ActionInfo",
    "Automation",
    "AutomationInfo",
    "DeliveryPlan",
    "EventType",
    "EventTypeInfo",
    "Match",
    "Saved",
    "find_named",
]

#: Definition names follow the secret key rule (`hub.names`).
NAME_LENGTH = KEY_LENGTH


class EventType(Base):
    __tablename__ = "event_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    #: JSON schema of the payload, checked when saved; None accepts any payload.
    payload_schema: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def info(self) -> EventTypeInfo:
        return EventTypeInfo(id=self.id, name=self.name, schema=self.payload_schema,
                             parameters=parameters_from_json(self.parameters),
                             created_at=self.created_at, updated_at=self.updated_at)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    sink: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    timeout: Mapped[float] = mapped_column(Float)
    #: Total tries, the first included (1 = never retry).
    retry_attempts: Mapped[int] = mapped_column(Integer)
    retry_backoff: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def info(self) -> ActionInfo:
        return ActionInfo(id=self.id, name=self.name, sink=self.sink,
                          parameters=parameters_from_json(self.parameters),
                          timeout=self.timeout, retry_attempts=self.retry_attempts,
                          retry_backoff=self.retry_backoff,
                          created_at=self.created_at, updated_at=self.updated_at)


class Automation(Base):
    __tablename__ = "automations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        # Ingest asks "the enabled automations of this event type" for every event.
        Index("ix_automations_match", "event_type_id", "enabled"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # RESTRICT: an event type or action in use cannot vanish under its automations.
    event_type_id: Mapped[str] = mapped_column(
        ForeignKey("event_types.id", ondelete="RESTRICT"))
    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id", ondelete="RESTRICT"),
                                           index=True)
    #: A JMESPath expression over the payload; None always matches.
    condition: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    event_type: Mapped[EventType] = relationship(lazy="joined", innerjoin=True)
    action: Mapped[Action] = relationship(lazy="joined", innerjoin=True)

    def info(self) -> AutomationInfo:
        return AutomationInfo(id=self.id, name=self.name, event_type=self.event_type.name,
                              action=self.action.name, condition=self.condition,
                              enabled=self.enabled,
                              created_at=self.created_at, updated_at=self.updated_at)


Definition = TypeVar("Definition", EventType, Action, Automation)
#: How messages name each kind of definition.
KIND = {EventType: "event type", Action: "action", Automation: "automation"}


def find_named(session: Session, model: type[Definition], tenant_id: str,
               name: str) -> Definition:
    """The tenant's `model` row named `name`; `NotFound` naming the kind if there is none."""
    row = session.scalars(
        select(model).where(model.tenant_id == tenant_id, model.name == name)
    ).unique().one_or_none()
    if row is None:
        raise NotFound(f"{KIND[model]} {name!r} not found")
    return row


@dataclass(frozen=True)
class EventTypeInfo:
    id: str
    name: str
    schema: Any | None
    parameters: list[ParameterSpec]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ActionInfo:
    id: str
    name: str
    sink: str
    parameters: list[ParameterSpec]
    timeout: float
    retry_attempts: int
    retry_backoff: float
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AutomationInfo:
    id: str
    name: str
    event_type: str
    action: str
    condition: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """A saved definition and what the author should know about it (e.g. a missing key)."""

    item: T
    warnings: list[str]


@dataclass(frozen=True)
class Match:
    """An enabled automation whose condition holds for an event."""

    automation_id: str
    automation: AutomationInfo
    action_id: str
    action: ActionInfo


@dataclass(frozen=True)
class DeliveryPlan:
    """Everything dispatch needs to send one action for one event type, secrets as keys."""

    sink: str
    timeout: float
    retry_attempts: int
    retry_backoff: float
    #: Merged (event type, then action; the action wins) and limited to the sink's fields.
    parameters: list[ParameterSpec]
    #: Parameter name -> secret key, for the `SECRET` parameters among `parameters`.
    secret_params: dict[str, str]
    #: Parameter name -> ("action" | "event_type", owner name): who set it, for error messages.
    owners: dict[str, tuple[str, str]]
