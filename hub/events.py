"""Events in, executions out: ingest, the execution queries, replay, and secret usage.

`EventService.ingest` stores an event and one `queued` execution per matching enabled
automation in one transaction; the dispatcher's outbox sweep sends them. An idempotency key
makes ingest safe to repeat: the same key returns the first event. Nothing here sends,
resolves or decrypts anything, and nothing here knows HTTP or Celery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from hub import audit
from hub.db import transaction
from hub.errors import Conflict, InvalidInput, NotFound
from hub.executions import (
    EXECUTION_STATUSES,
    FINISHED,
    FIRST,
    QUEUED,
    REPLAY,
    Attempt,
    AttemptSecret,
    Event,
    Execution,
    ExecutionRecord,
    SecretUsage,
)
from hub.tenants import tenant_id_of

if TYPE_CHECKING:
    from hub.automations.service import AutomationService

Clock = Callable[[], datetime]

MAX_IDEMPOTENCY_KEY = 200
MAX_LISTED = 1000


@dataclass(frozen=True)
class ExecutionSummary:
    id: str
    action: str
    status: str


@dataclass(frozen=True)
class IngestResult:
    event_id: str
    executions: tuple[ExecutionSummary, ...]
    duplicate: bool


def new_id() -> str:
    return str(uuid.uuid4())


class EventService:
    """Ingest events and answer questions about what became of them."""

    def __init__(self, sessions: sessionmaker[Session], automations: AutomationService, *,
                 clock: Clock) -> None:
        self.sessions = sessions
        self.automations = automations
        self.clock = clock

    # -- ingest ----------------------------------------------------------------------------

    def ingest(self, tenant: str, event_type: str, payload: Any, *,
               idempotency_key: str | None = None, actor: str) -> IngestResult:
        """Store the event and its executions, or return the first event with this key."""
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        try:
            return self._ingest(tenant, event_type, payload, idempotency_key, actor)
        except IntegrityError:
            # Two requests with one idempotency key raced; the other one won. Answer as it did.
            if idempotency_key is None:
                raise
            with transaction(self.sessions) as session:
                first = self._by_idempotency_key(
                    session, tenant_id_of(session, tenant), idempotency_key)
                if first is None:
                    raise
                return _result(first, duplicate=True)

    def _ingest(self, tenant: str, event_type: str, payload: Any,
                idempotency_key: str | None, actor: str) -> IngestResult:
        with transaction(self.sessions) as session:
            tenant_id = tenant_id_of(session, tenant)
            if idempotency_key is not None:
                first = self._by_idempotency_key(session, tenant_id, idempotency_key)
                if first is not None:
                    return _result(first, duplicate=True)
            info = self.automations.validate_payload(session, tenant_id, event_type, payload)
            now = self.clock()
            event = Event(id=new_id(), tenant_id=tenant_id, event_type=event_type,
                          event_type_id=info.id, payload=payload,
                          idempotency_key=idempotency_key, actor=actor, received_at=now)
            session.add(event)
            for match in self.automations.matching(session, tenant_id, event_type, payload):
                execution_id = new_id()
                event.executions.append(Execution(
                    id=execution_id, tenant_id=tenant_id, automation_id=match.automation_id,
                    action_id=match.action_id, action_name=match.action.name, status=QUEUED,
                    idempotency_key=execution_id, attempt=0, retries_used=0, lost_count=0,
                    next_trigger=FIRST, next_attempt_at=now, created_at=now, updated_at=now,
                ))
            session.flush()
            return _result(event, duplicate=False)

    @staticmethod
    def _by_idempotency_key(session: Session, tenant_id: str, key: str) -> Event | None:
        return session.scalars(
            select(Event).where(Event.tenant_id == tenant_id, Event.idempotency_key == key)
            .options(selectinload(Event.executions))
        ).one_or_none()

    # -- queries ---------------------------------------------------------------------------

    def get_execution(self, tenant: str, execution_id: str) -> ExecutionRecord:
        with transaction(self.sessions) as session:
            return ExecutionRecord.of(self._execution(session, tenant, execution_id))

    def list_executions(self, tenant: str, *, status: str | None = None,
                        action: str | None = None, since: datetime | None = None,
                        event_id: str | None = None,
                        limit: int = 100) -> list[ExecutionRecord]:
        """Newest first, without attempts (ask `get_execution` for those)."""
        if status is not None and status not in EXECUTION_STATUSES:
            raise InvalidInput(f"unknown status; expected one of {', '.join(EXECUTION_STATUSES)}")
        with transaction(self.sessions) as session:
            query = (select(Execution)
                     .where(Execution.tenant_id == tenant_id_of(session, tenant))
                     .options(selectinload(Execution.event))
                     .order_by(Execution.created_at.desc(), Execution.id)
                     .limit(max(1, min(limit, MAX_LISTED))))
            if status is not None:
                query = query.where(Execution.status == status)
            if action is not None:
                query = query.where(Execution.action_name == action)
            if since is not None:
                query = query.where(Execution.created_at >= since)
            if event_id is not None:
                query = query.where(Execution.event_id == event_id)
            rows = session.scalars(query).all()
            return [ExecutionRecord.of(row, with_attempts=False) for row in rows]

    def get_event(self, tenant: str, event_id: str) -> IngestResult:
        with transaction(self.sessions) as session:
            event = session.get(Event, event_id)
            if event is None or event.tenant_id != tenant_id_of(session, tenant):
                raise NotFound(f"no event {event_id!r}")
            return _result(event, duplicate=False)

    def usage(self, tenant: str, key: str, *, limit: int = 100) -> list[SecretUsage]:
        """Which attempts received which version of `key`: this tenant's own executions, and
        those of tenants that inherited the key from it (it is the owner of that value)."""
        with transaction(self.sessions) as session:
            tenant_id = tenant_id_of(session, tenant)
            rows = session.execute(
                select(AttemptSecret, Attempt.number)
                .join(Attempt, AttemptSecret.attempt_id == Attempt.id)
                .where(AttemptSecret.secret_key == key,
                       or_(AttemptSecret.source_tenant_id == tenant_id,
                           AttemptSecret.tenant_id == tenant_id))
                .order_by(AttemptSecret.at.desc(), AttemptSecret.id.desc())
                .limit(max(1, min(limit, MAX_LISTED)))
            ).all()
            return [SecretUsage(execution_id=s.execution_id, attempt=number,
                                tenant_id=s.tenant_id, parameter=s.parameter, key=s.secret_key,
                                version=s.version, source_tenant_id=s.source_tenant_id, at=s.at)
                    for s, number in rows]

    # -- replay ----------------------------------------------------------------------------

    def replay(self, tenant: str, execution_id: str, *, actor: str) -> ExecutionRecord:
        """Queue a finished execution again: a new attempt, resolved afresh by the hub."""
        with transaction(self.sessions) as session:
            execution = self._execution(session, tenant, execution_id)
            if execution.status not in FINISHED:
                raise Conflict(
                    f"execution {execution_id!r} is {execution.status}; only a finished "
                    "execution (succeeded, failed or dead) can be replayed")
            now = self.clock()
            previous = execution.status
            execution.status = QUEUED
            execution.next_attempt_at = now
            execution.retries_used = 0
            execution.lost_count = 0
            execution.finished_at = None
            execution.next_trigger = REPLAY
            execution.next_actor = actor
            execution.updated_at = now
            audit.record(session, tenant_id=execution.tenant_id, actor=actor,
                         action="execution.replay", target=execution_id, at=now,
                         details={"previous_status": previous, "action": execution.action_name})
            session.flush()
            return ExecutionRecord.of(execution)

    @staticmethod
    def _execution(session: Session, tenant: str, execution_id: str) -> Execution:
        execution = session.scalars(
            select(Execution).where(Execution.id == execution_id)
            .options(selectinload(Execution.event),
                     selectinload(Execution.attempts).selectinload(Attempt.secrets))
        ).one_or_none()
        if execution is None or execution.tenant_id != tenant_id_of(session, tenant):
            raise NotFound(f"no execution {execution_id!r}")
        return execution


def _result(event: Event, *, duplicate: bool) -> IngestResult:
    return IngestResult(
        event_id=event.id, duplicate=duplicate,
        executions=tuple(ExecutionSummary(e.id, e.action_name, e.status)
                         for e in event.executions),
    )

