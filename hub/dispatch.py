"""Resolve, seal, send: the hub's main job.

The dispatcher sweeps the outbox (executions `queued` or `retrying` whose time has come).
For each it merges the Event Type's and the Action's parameters, renders templates, resolves
every `SECRET` parameter to its highest ACTIVE version (local tenant, then umbrella), records
`key@version` on the new attempt, seals the values for the worker (bound to execution id and
attempt, with an expiry) and sends the Celery task with an `argsrepr`/`kwargsrepr` that names
keys only. An execution stays `queued` until a send succeeds, so events accepted while the
broker is down go out when it returns.

What follows a send (worker outcomes, retries, lost attempts) lives in `hub.outcomes`; the
`Dispatcher` here is the one object the dispatcher process drives, and delegates that part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from hub.broker import DELIVERY_QUEUE, DELIVERY_TASK, MAX_TASK_SECONDS, task_time_limits
from hub.db import transaction
from hub.errors import HubError
from hub.executions import FAILED, FIRST, PENDING, RUNNING, SENT, Attempt, AttemptSecret, Execution
from hub.logging.celery import VALUE_FREE_REPRS
from hub.outcomes import OutcomeRecorder
from hub.parameters import render_parameters
from hub.sealing import TransportKeys, seal
from hub.tenants import Tenant

if TYPE_CHECKING:
    from celery import Celery

    from hub.automations.service import AutomationService
    from hub.secrets.store import Resolved, SecretStore

logger = logging.getLogger("hub.dispatch")

Clock = Callable[[], datetime]

#: How long an execution the broker refused waits before the next try.
_PAUSE = timedelta(seconds=1)


class Sender(Protocol):
    """Puts one sealed delivery on the broker; raises when the broker cannot take it."""

    def send(self, envelope: Mapping[str, Any], *, kwargsrepr: str, timeout: float) -> None: ...

    def batch(self) -> AbstractContextManager[object]:
        """Hold one broker connection for the sends inside the block."""
        ...


class CelerySender:
    """Sends `hub.deliver` tasks through a Celery app (see `hub.broker.make_celery`).

    Inside `batch()` the sends of one sweep are buffered and go out together when the block
    ends (on Redis: one pipeline, one round trip, instead of one per message); a send
    outside a batch goes out at once. Either way the block raises if anything was not
    published, so the caller marks nothing sent before the broker took it.
    """

    def __init__(self, app: Celery, *, max_batch: int = 1000) -> None:
        self.app = app
        self.max_batch = max_batch
        self._producer: Any = None

    @contextmanager
    def batch(self) -> Iterator[object]:
        with self.app.producer_or_acquire() as producer:
            self._producer = producer
            try:
                with producer.batch(max_size=self.max_batch):
                    yield producer
            finally:
                self._producer = None

    def send(self, envelope: Mapping[str, Any], *, kwargsrepr: str, timeout: float) -> None:
        soft, hard = task_time_limits(timeout)
        buffered = self._producer is not None
        self.app.send_task(
            DELIVERY_TASK, kwargs={"envelope": dict(envelope)}, queue=DELIVERY_QUEUE,
            producer=self._producer,
            argsrepr="()", kwargsrepr=kwargsrepr,
            # Keys only, by construction: tells a process-wide publish hook to keep them.
            headers={VALUE_FREE_REPRS: True},
            # Backstops for a sink that ignores Delivery.timeout: soft raises in the task,
            # hard kills the pool process (the attempt is then lost and sent again).
            soft_time_limit=soft, time_limit=hard,
            ignore_result=True,
            # Fail fast when the broker is down: the execution stays queued in the outbox.
            # A buffered send only builds the message; the batch's flush is what can fail.
            retry=not buffered, retry_policy={"max_retries": 1, "interval_start": 0.1,
                                              "interval_step": 0.2, "interval_max": 0.3},
        )


@dataclass(frozen=True)
class SweepReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    """Claimed but not sent (the broker refused): they stay in the outbox."""


@dataclass(eq=False)
class _Job:
    """One claimed execution on its way out."""

    execution: Execution
    number: int
    tenant_name: str
    plan: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Resolved] = field(default_factory=dict)
    error: str | None = None


class Dispatcher:
    """Sweeps the outbox, records outcomes, schedules retries and catches lost attempts."""

    def __init__(self, sessions: sessionmaker[Session], *, secrets: SecretStore,
                 automations: AutomationService, keys: TransportKeys, sender: Sender,
                 seal_ttl: timedelta,
                 clock: Clock, batch_size: int = 200, lease: timedelta = timedelta(seconds=60),
                 lost_grace: timedelta = timedelta(seconds=30),
                 start_allowance: timedelta = timedelta(minutes=10), max_lost: int = 3) -> None:
        self.sessions = sessions
        self.secrets = secrets
        self.automations = automations
        self.keys = keys
        self.sender = sender
        self.seal_ttl = seal_ttl
        self.clock = clock
        self.batch_size = batch_size
        self.lease = lease
        self.lost_grace = lost_grace
        self.start_allowance = start_allowance
        self.max_lost = max_lost
        self.outcomes = OutcomeRecorder(sessions=sessions, clock=clock, batch_size=batch_size,
                                        lost_grace=lost_grace, max_lost=max_lost,
                                        resolve=secrets.resolve_present, scrub_ttl=2 * seal_ttl)

    # -- the outbox ------------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Send every due execution (one batch); return what happened."""
        jobs = self._claim()
        if not jobs:
            return SweepReport()
        self._resolve(jobs)
        sent: list[_Job] = []
        deferred: list[_Job] = []
        try:
            with self.sender.batch():
                self._send_all(jobs, sent, deferred)
        except Exception as exc:  # the connection, or the batch's flush, failed
            # Whether any of the batch reached the broker is unknown: all of it stays in
            # the outbox. A message that did get through is then sent twice, which the
            # idempotency key makes harmless; one marked sent but never published would be
            # lost, which nothing could repair.
            logger.warning("cannot reach the broker (%s)", type(exc).__name__)
            sent.clear()
            deferred[:] = [j for j in jobs if j.error is None]
        self._record_sends(jobs, deferred)
        failed = sum(1 for job in jobs if job.error is not None)
        return SweepReport(sent=len(sent), failed=failed, deferred=len(deferred))

    def _send_all(self, jobs: Sequence[_Job], sent: list[_Job], deferred: list[_Job]) -> None:
        for job in jobs:
            if job.error is not None:
                continue
            if deferred:  # the broker refused one already; don't hammer it
                deferred.append(job)
                continue
            try:
                self._send(job)
                sent.append(job)
            except Exception as exc:
                logger.warning("could not send a delivery (%s); %d execution(s) stay queued",
                               type(exc).__name__, len(jobs) - len(sent))
                deferred.append(job)

    def _claim(self) -> list[_Job]:
        now = self.clock()
        with transaction(self.sessions) as session:
            executions = session.scalars(
                select(Execution)
                .where(Execution.status.in_(PENDING), Execution.next_attempt_at <= now,
                       (Execution.claimed_until.is_(None)) | (Execution.claimed_until < now))
                .order_by(Execution.next_attempt_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
                .options(selectinload(Execution.event))
            ).all()
            names: dict[str, str] = {}
            plans: dict[tuple[str, str | None], Any] = {}
            jobs = []
            for execution in executions:
                execution.claimed_until = now + self.lease
                if execution.tenant_id not in names:
                    tenant = session.get(Tenant, execution.tenant_id)
                    names[execution.tenant_id] = tenant.name if tenant else execution.tenant_id
                job = _Job(execution, execution.attempt + 1, names[execution.tenant_id])
                self._prepare(session, job, plans)
                jobs.append(job)
            return jobs

    def _prepare(self, session: Session, job: _Job,
                 plans: dict[tuple[str, str | None], Any]) -> None:
        """Load the delivery plan (once per action in a sweep) and render the parameters."""
        execution = job.execution
        event = execution.event
        try:
            which = (execution.action_id, event.event_type_id)
            if which not in plans:
                plans[which] = self.automations.delivery_plan(session, *which)
            job.plan = plans[which]
            rendered = render_parameters(
                job.plan.parameters, payload=event.payload,
                event={"id": event.id, "type": event.event_type,
                       "received_at": event.received_at.isoformat()},
            )
            job.parameters = dict(rendered)
        except HubError as exc:
            job.error = f"cannot prepare action {execution.action_name!r}: {exc.message}"

    def _resolve(self, jobs: Sequence[_Job]) -> None:
        """Resolve every job's secrets, one store call per tenant."""
        by_tenant: dict[str, list[_Job]] = {}
        for job in jobs:
            if job.error is None and job.plan.secret_params:
                by_tenant.setdefault(job.execution.tenant_id, []).append(job)
        for tenant_id, tenant_jobs in by_tenant.items():
            keys = sorted({k for job in tenant_jobs for k in job.plan.secret_params.values()})
            try:
                found = self.secrets.resolve_present(tenant_id, keys)
            except HubError as exc:
                # An undecryptable value fails this tenant's jobs, not the whole batch (which
                # would be claimed, and fail, again and again).
                for job in tenant_jobs:
                    job.error = (f"cannot resolve the secrets of action "
                                 f"{job.execution.action_name!r}: {exc.message}")
                continue
            # This process holds the values now; make sure no log line of it shows them.
            self.outcomes.register(found.values())
            for job in tenant_jobs:
                self._assign(job, found)

    @staticmethod
    def _assign(job: _Job, found: Mapping[str, Resolved]) -> None:
        for parameter, key in sorted(job.plan.secret_params.items()):
            if key not in found:
                kind, owner = job.plan.owners.get(parameter, ("action", job.execution.action_name))
                job.error = (f"secret {key!r} not found for parameter {parameter!r} of "
                             f"{kind.replace('_', ' ')} {owner!r} in tenant {job.tenant_name!r}")
                job.resolved = {}
                return
            job.resolved[parameter] = found[key]

    def _send(self, job: _Job) -> None:
        execution, plan = job.execution, job.plan
        timeout = min(float(plan.timeout), float(MAX_TASK_SECONDS))
        sealed = None
        if job.resolved:
            sealed = seal({p: r.value for p, r in job.resolved.items()}, keys=self.keys,
                          execution_id=execution.id, attempt=job.number,
                          expires_at=self.clock() + self.seal_ttl)
        envelope = {
            "execution_id": execution.id, "event_id": execution.event_id,
            "event_type": execution.event.event_type, "attempt": job.number,
            "idempotency_key": execution.idempotency_key, "sink": plan.sink,
            "timeout": timeout, "payload": execution.event.payload,
            "parameters": job.parameters, "sealed": sealed,
        }
        # Names only: Celery logs and monitors this text instead of the arguments.
        kwargsrepr = repr({"envelope": {
            "execution_id": execution.id, "attempt": job.number, "sink": plan.sink,
            "secrets": sorted(job.resolved)}})
        self.sender.send(envelope, kwargsrepr=kwargsrepr, timeout=timeout)

    def _record_sends(self, jobs: Sequence[_Job], deferred: Sequence[_Job]) -> None:
        """One transaction for the whole batch, in bulk statements: the new attempts with
        their `key@version` rows, and each execution's new state."""
        now = self.clock()
        later = {id(job) for job in deferred}
        waiting, failed, running, attempts = [], [], [], []
        for job in jobs:
            execution = job.execution
            if id(job) in later:
                waiting.append({"b_id": execution.id, "next_attempt_at": now + _PAUSE})
                continue
            attempts.append({
                "execution_id": execution.id, "number": job.number,
                "trigger": execution.next_trigger or FIRST, "actor": execution.next_actor,
                "status": SENT if job.error is None else FAILED,
                "sent_at": now if job.error is None else None,
                "finished_at": None if job.error is None else now, "error": job.error})
            if job.error is not None:
                failed.append({"b_id": execution.id, "attempt": job.number,
                               "error": job.error})
                continue
            timeout = min(float(job.plan.timeout), float(MAX_TASK_SECONDS))
            running.append({
                "b_id": execution.id, "attempt": job.number, "timeout_seconds": timeout,
                "max_tries": int(job.plan.retry_attempts),
                "backoff_seconds": _seconds(job.plan.retry_backoff),
                "deadline_at": now + self.start_allowance + self.lost_grace
                + timedelta(seconds=timeout)})
        table = cast(Table, Execution.__table__)
        by_id = table.c.id == bindparam("b_id")
        released = {"claimed_until": None, "updated_at": now}
        sent = {**released, "next_attempt_at": None, "next_actor": None}
        with transaction(self.sessions) as session:
            if attempts:
                ids = dict(session.execute(
                    insert(Attempt).returning(Attempt.execution_id, Attempt.id,
                                              sort_by_parameter_order=True), attempts).all())
                uses = [_use(job, ids[job.execution.id], parameter, resolved, now)
                        for job in jobs if job.execution.id in ids
                        for parameter, resolved in sorted(job.resolved.items())]
                if uses:
                    session.execute(insert(AttemptSecret), uses)
            if waiting:
                session.execute(update(table).where(by_id).values(released), waiting)
            if failed:
                session.execute(update(table).where(by_id).values(
                    **sent, status=FAILED, finished_at=now, deadline_at=None), failed)
            if running:
                session.execute(update(table).where(by_id).values(
                    **sent, status=RUNNING, error=None), running)

    # -- after the send (see hub.outcomes) ------------------------------------------------

    def record_outcomes(self, outcomes: Sequence[Mapping[str, Any]]) -> int:
        """Store worker outcomes in one transaction; returns how many changed something."""
        return self.outcomes.record_outcomes(outcomes)

    def reap_lost(self) -> int:
        """Running attempts past their deadline with no outcome: send again, or give up."""
        return self.outcomes.reap_lost()


def _use(job: _Job, attempt_id: int, parameter: str, resolved: Resolved,
         now: datetime) -> dict[str, Any]:
    return {"attempt_id": attempt_id, "execution_id": job.execution.id,
            "tenant_id": job.execution.tenant_id, "parameter": parameter,
            "secret_key": resolved.key, "version": int(resolved.version),
            "source_tenant_id": resolved.tenant_id, "at": now}


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

