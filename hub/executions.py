"""What happened to an event: its executions, their attempts, and the secrets each received.

One execution per (event, action); one attempt per send to a worker. The execution's status
is the summary an operator reads:

    queued ──send──▶ running ──▶ succeeded
       ▲                │  ├──▶ failed     (permanent error, or a secret that did not resolve)
       │                │  └──▶ retrying ──(backoff)──▶ running ... ──▶ dead (retries used up)
       └── replay ◀─────┘ lost (no outcome in time) ──▶ running again, or dead if lost repeatedly

`queued` and `retrying` executions whose `next_attempt_at` has come are the outbox the
dispatcher sweeps. Every attempt records the `key@version` (and source tenant) of every secret
it was sent; nothing here ever holds a value, and errors are stored already scrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, UTCDateTime

QUEUED, RUNNING, SUCCEEDED, FAILED, RETRYING, DEAD = (
    "queued", "running", "succeeded", "failed", "retrying", "dead")
EXECUTION_STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, RETRYING, DEAD)
#: Waiting for the dispatcher to send an attempt.
PENDING = (QUEUED, RETRYING)
#: Nothing more will happen unless someone replays it.
FINISHED = (SUCCEEDED, FAILED, DEAD)

# Attempt statuses: `sent` until a worker reports it started, then one final status.
SENT, STARTED, LOST = "sent", "running", "lost"
ATTEMPT_FINAL = (SUCCEEDED, FAILED, RETRYING, LOST)

# Why an attempt was made.
FIRST, RETRY, REPLAY, AFTER_LOSS = "first", "retry", "replay", "lost"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(200))
    event_type_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[Any] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    executions: Mapped[list[Execution]] = relationship(
        back_populates="event", order_by="Execution.created_at")


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_outbox", "status", "next_attempt_at"),
        Index("ix_executions_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    automation_id: Mapped[str | None] = mapped_column(String(36))
    action_id: Mapped[str] = mapped_column(String(36))
    action_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    #: Stable across attempts and redeliveries; sinks pass it downstream.
    idempotency_key: Mapped[str] = mapped_column(String(80))
    #: Number of the latest attempt (0 before the first send).
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    #: Tries that ended in a retryable failure since the first send (or the last replay).
    retries_used: Mapped[int] = mapped_column(Integer, default=0)
    lost_count: Mapped[int] = mapped_column(Integer, default=0)
    # The action's policy as of the latest send, so outcomes can be judged without it.
    timeout_seconds: Mapped[float | None] = mapped_column(Float)
    #: Tries in all, the first included (the action's `retry.attempts`).
    max_tries: Mapped[int | None] = mapped_column(Integer)
    backoff_seconds: Mapped[float | None] = mapped_column(Float)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the next attempt will be made, and by whom (a replay names its actor).
    next_trigger: Mapped[str] = mapped_column(String(16), default="first")
    next_actor: Mapped[str | None] = mapped_column(String(200))
    #: A dispatcher's lease on a pending execution while it resolves, seals and sends.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A running attempt with no outcome by then is considered lost.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    result_summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship(back_populates="executions")
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="execution", order_by="Attempt.number", cascade="all, delete-orphan")


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("execution_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Any | None] = mapped_column(JSON)

    execution: Mapped[Execution] = relationship(back_populates="attempts")
    secrets: Mapped[list[AttemptSecret]] = relationship(
        back_populates="attempt", order_by="AttemptSecret.parameter",
        cascade="all, delete-orphan")


class AttemptSecret(Base):
    """One secret one attempt received: which key, which version, from which tenant."""

    __tablename__ = "attempt_secrets"
    __table_args__ = (Index("ix_attempt_secrets_key", "secret_key", "source_tenant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    execution_id: Mapped[str] = mapped_column(String(36))
    tenant_id: Mapped[str] = mapped_column(String(36))
    parameter: Mapped[str] = mapped_column(String(200))
    secret_key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    source_tenant_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    attempt: Mapped[Attempt] = relationship(back_populates="secrets")


# -- value-free views handed to callers (the API, the CLI) -----------------------------------


@dataclass(frozen=True)
class SecretUse:
    parameter: str
    key: str
    version: int
    source_tenant_id: str

    @property
    def label(self) -> str:
        return f"{self.key}@{self.version}"


@dataclass(frozen=True)
class AttemptRecord:
    number: int
    trigger: str
    status: str
    actor: str | None
    sent_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    summary: str | None
    secrets: tuple[SecretUse, ...]

    @classmethod
    def of(cls, row: Attempt) -> AttemptRecord:
        return cls(
            number=row.number, trigger=row.trigger, status=row.status, actor=row.actor,
            sent_at=row.sent_at, started_at=row.started_at, finished_at=row.finished_at,
            error=row.error, summary=row.summary,
            secrets=tuple(SecretUse(s.parameter, s.secret_key, s.version, s.source_tenant_id)
                          for s in row.secrets),
        )


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    tenant_id: str
    event_id: str
    event_type: str
    automation_id: str | None
    action_id: str
    action: str
    status: str
    attempt: int
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None
    result_summary: str | None
    attempts: tuple[AttemptRecord, ...]

    @classmethod
    def of(cls, row: Execution, *, with_attempts: bool = True) -> ExecutionRecord:
        return cls(
            id=row.id, tenant_id=row.tenant_id, event_id=row.event_id,
            event_type=row.event.event_type, automation_id=row.automation_id,
            action_id=row.action_id, action=row.action_name, status=row.status,
            attempt=row.attempt, idempotency_key=row.idempotency_key,
            created_at=row.created_at, updated_at=row.updated_at,
            finished_at=row.finished_at, next_attempt_at=row.next_attempt_at,
            error=row.error, result_summary=row.result_summary,
            attempts=tuple(AttemptRecord.of(a) for a in row.attempts) if with_attempts else (),
        )


@dataclass(frozen=True)
class SecretUsage:
    """One secret delivered to one attempt (the answer to "who received API_TOKEN@3?")."""

    execution_id: str
    attempt: int
    tenant_id: str
    parameter: str
    key: str
    version: int
    source_tenant_id: str
    at: datetime
