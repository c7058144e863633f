"""What happens after a send: worker outcomes, retries and lost attempts.

Workers never retry by themselves. They report outcomes on `hub.outcomes`; `record_outcomes`
stores them in one transaction (the caller acknowledges the messages after it returns).
A retryable failure schedules attempt n+1 after the action's exponential backoff, and that
attempt goes through the dispatcher's sweep again, so a rotated secret is picked up. A running
attempt that outlives its deadline without an outcome is lost and sent again; lost too often,
dead. `hub.dispatch.Dispatcher` owns an `OutcomeRecorder` and delegates to it.

Outcome texts (error, summary, details) are scrubbed here a second time, after the worker's own
scrubbing. The process scrubber only knows values registered recently, so before scrubbing, the
values of the secrets the attempt received are registered again (resolved through the
dispatcher's store, at their current versions), unless this process did so recently: the
second net holds after a restart and for outcomes that arrive long after the send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import transaction
from hub.errors import HubError
from hub.executions import (
    AFTER_LOSS,
    ATTEMPT_FINAL,
    DEAD,
    FAILED,
    LOST,
    RETRY,
    RETRYING,
    RUNNING,
    STARTED,
    SUCCEEDED,
    Attempt,
    AttemptSecret,
    Execution,
)
from hub.logging import get_scrubber

if TYPE_CHECKING:
    from hub.secrets.records import Resolved

# Outcomes are recorded by the dispatcher process: its log lines keep the dispatcher's name.
logger = logging.getLogger("hub.dispatch")

Clock = Callable[[], datetime]
#: A tenant's keys at their current versions; keys that no longer resolve are left out.
Resolve = Callable[[str, Sequence[str]], Mapping[str, "Resolved"]]

MAX_BACKOFF = timedelta(hours=6)
MAX_ERROR_CHARS = 2000

# Outcome message statuses (see workers.tasks; the hub does not import workers).
STARTED_MESSAGE, RETRY_MESSAGE = "started", "retry"
OUTCOME_STATUSES = (STARTED_MESSAGE, SUCCEEDED, FAILED, RETRY_MESSAGE)
TEXT_FIELDS = ("error", "summary", "details")

#: Past this many remembered keys, forget the expired ones (all of them, if that is not enough).
_MAX_REMEMBERED = 10_000


@dataclass(frozen=True, kw_only=True)
class OutcomeRecorder:
    """Moves running executions on: finished, scheduled for a retry, lost, or dead."""

    sessions: sessionmaker[Session]
    clock: Clock
    batch_size: int
    lost_grace: timedelta
    """How long past its timeout a started attempt may stay silent before it is lost."""
    max_lost: int
    resolve: Resolve
    """The dispatcher's secret lookup, to register an attempt's values before its texts are
    scrubbed."""
    scrub_ttl: timedelta = timedelta(hours=2)
    """How long a value registered with the scrubber stays masked at least."""
    _registered: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False,
                                                          repr=False)
    """(source tenant id, key) -> until when its current value counts as registered."""

    # -- outcomes --------------------------------------------------------------------------

    def record_outcomes(self, outcomes: Sequence[Mapping[str, Any]]) -> int:
        """Store worker outcomes in one transaction; returns how many changed something.
        Outcomes for an attempt that is not the execution's latest, or already final, are
        ignored (a redelivered message, or a late worker after a loss)."""
        now = self.clock()
        valid = [o for o in outcomes if _well_formed(o)]
        if len(valid) < len(outcomes):
            logger.warning("ignored %d malformed outcome message(s)", len(outcomes) - len(valid))
        if not valid:
            return 0
        # Before the transaction: no row is locked while values are decrypted.
        self._register_secrets(valid)
        ids = sorted({str(o["execution_id"]) for o in valid})
        applied = 0
        with transaction(self.sessions) as session:
            executions = {e.id: e for e in session.scalars(
                select(Execution).where(Execution.id.in_(ids)).with_for_update())}
            attempts = {a.execution_id: a for a in session.scalars(
                select(Attempt).join(Execution, and_(Attempt.execution_id == Execution.id,
                                                     Attempt.number == Execution.attempt))
                .where(Execution.id.in_(ids)))}
            for outcome in valid:
                execution = executions.get(str(outcome["execution_id"]))
                attempt = attempts.get(str(outcome["execution_id"]))
                if execution is not None and attempt is not None:
                    applied += self._apply(execution, attempt, outcome, now)
        return applied

    # -- the scrubber's second net ---------------------------------------------------------

    def note_registered(self, tenant_id: str, keys: Iterable[str]) -> None:
        """The current values of `keys` (found in `tenant_id`) were just given to the scrubber
        with `scrub_ttl`: outcomes need not resolve them again for a while."""
        # Half the scrubber's lifetime: registered again well before the scrubber forgets.
        until = self.clock() + self.scrub_ttl / 2
        if len(self._registered) > _MAX_REMEMBERED:
            now = self.clock()
            for entry in [e for e, due in self._registered.items() if due <= now]:
                self._registered.pop(entry, None)
            if len(self._registered) > _MAX_REMEMBERED:
                self._registered.clear()
        for key in keys:
            self._registered[(tenant_id, key)] = until

    def _register_secrets(self, outcomes: Sequence[Mapping[str, Any]]) -> None:
        """Give the scrubber the values of the secrets that the attempts of outcomes carrying
        text received, unless this process registered them recently."""
        wanted = {(str(o["execution_id"]), int(o["attempt"])) for o in outcomes
                  if any(o.get(name) for name in TEXT_FIELDS)}
        if not wanted:
            return
        with self.sessions() as session:
            rows = session.execute(
                select(Attempt.execution_id, Attempt.number, AttemptSecret.source_tenant_id,
                       AttemptSecret.secret_key)
                .join(AttemptSecret, AttemptSecret.attempt_id == Attempt.id)
                .where(Attempt.execution_id.in_(sorted({e for e, _ in wanted})))).all()
        now = self.clock()
        due: dict[str, set[str]] = {}
        for execution_id, number, tenant_id, key in rows:
            until = self._registered.get((tenant_id, key))
            if (execution_id, number) in wanted and (until is None or until <= now):
                due.setdefault(tenant_id, set()).add(key)
        for tenant_id, keys in sorted(due.items()):
            try:
                found = self.resolve(tenant_id, sorted(keys))
            except HubError as exc:  # e.g. an undecryptable version: the worker's net stands
                logger.warning("could not register an attempt's secrets with the scrubber (%s)",
                               type(exc).__name__)
                continue
            self.register(found.values())
            self.note_registered(tenant_id, keys)  # also those that no longer resolve

    def register(self, found: Iterable[Resolved]) -> None:
        """Give the scrubber values this process holds now, and remember that it did."""
        found = list(found)
        scrubber = get_scrubber()
        values = [r.value.reveal() for r in found]
        # Shorter values are refused by the store and would mask ordinary text.
        scrubber.add_many([v for v in values if len(v) >= scrubber.min_length],
                          ttl=self.scrub_ttl.total_seconds())
        for resolved in found:
            self.note_registered(resolved.tenant_id, [resolved.key])

    # -- applying one outcome --------------------------------------------------------------

    def _apply(self, execution: Execution, attempt: Attempt, outcome: Mapping[str, Any],
               now: datetime) -> bool:
        number, status = int(outcome["attempt"]), str(outcome["status"])
        if (status not in OUTCOME_STATUSES or execution.attempt != number
                or execution.status != RUNNING or attempt.status in ATTEMPT_FINAL):
            return False
        scrub = get_scrubber().scrub
        started = _when(outcome.get("started_at")) or now
        finished = _when(outcome.get("finished_at")) or now
        error = outcome.get("error")
        error = scrub(str(error))[:MAX_ERROR_CHARS] if error else None
        execution.updated_at = now
        if status == STARTED_MESSAGE:
            attempt.status = STARTED
            attempt.started_at = started
            execution.deadline_at = (now + self.lost_grace
                                     + timedelta(seconds=execution.timeout_seconds or 0))
            return True
        attempt.started_at = attempt.started_at or started
        attempt.finished_at = finished
        attempt.error = error
        if status == SUCCEEDED:
            attempt.status = SUCCEEDED
            summary = outcome.get("summary")
            attempt.summary = scrub(str(summary))[:MAX_ERROR_CHARS] if summary else None
            attempt.details = _scrub_json(outcome.get("details"))
            execution.result_summary = attempt.summary
            self._finish(execution, SUCCEEDED, now, error=None)
        elif status == FAILED:
            attempt.status = FAILED
            self._finish(execution, FAILED, now, error=error)
        else:  # RETRY_MESSAGE
            attempt.status = RETRYING
            self._schedule_retry(execution, now, error=error,
                                 retry_after=outcome.get("retry_after"))
        return True

    def _schedule_retry(self, execution: Execution, now: datetime, *, error: str | None,
                        retry_after: Any = None) -> None:
        execution.retries_used += 1
        if execution.retries_used >= (execution.max_tries or 1):
            self._finish(execution, DEAD, now,
                         error=f"retries exhausted after {execution.attempt} attempt(s): {error}")
            return
        delay = _backoff(execution.backoff_seconds or 0.0, execution.retries_used)
        if isinstance(retry_after, int | float) and retry_after > 0:
            delay = max(delay, timedelta(seconds=float(retry_after)))
        execution.status = RETRYING
        execution.error = error
        execution.next_trigger = RETRY
        execution.next_attempt_at = now + min(delay, MAX_BACKOFF)
        execution.deadline_at = None

    @staticmethod
    def _finish(execution: Execution, status: str, now: datetime, *, error: str | None) -> None:
        execution.status = status
        execution.error = error
        execution.finished_at = now
        execution.deadline_at = None
        execution.next_attempt_at = None

    # -- lost attempts ---------------------------------------------------------------------

    def reap_lost(self) -> int:
        """Running attempts past their deadline with no outcome: send again, or give up."""
        now = self.clock()
        with transaction(self.sessions) as session:
            executions = session.scalars(
                select(Execution)
                .where(Execution.status == RUNNING, Execution.deadline_at < now)
                .limit(self.batch_size).with_for_update(skip_locked=True)
            ).all()
            for execution in executions:
                attempt = session.scalars(select(Attempt).where(
                    Attempt.execution_id == execution.id,
                    Attempt.number == execution.attempt)).one_or_none()
                if attempt is not None:
                    attempt.status = LOST
                    attempt.finished_at = now
                    attempt.error = "no outcome from a worker before the deadline"
                execution.lost_count += 1
                execution.updated_at = now
                if execution.lost_count >= self.max_lost:
                    self._finish(execution, DEAD, now, error=(
                        f"lost {execution.lost_count} times: no worker reported an outcome"))
                    continue
                execution.status = RETRYING
                execution.next_trigger = AFTER_LOSS
                execution.next_attempt_at = now
                execution.deadline_at = None
            return len(executions)


def _well_formed(outcome: object) -> bool:
    if not isinstance(outcome, Mapping):
        return False
    try:
        int(outcome["attempt"])
        return isinstance(outcome["execution_id"], str) and isinstance(outcome["status"], str)
    except (KeyError, TypeError, ValueError):
        return False


def _backoff(base_seconds: float, retry: int) -> timedelta:
    return timedelta(seconds=base_seconds * (2 ** max(0, retry - 1)))


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _scrub_json(value: Any) -> Any:
    scrub = get_scrubber().scrub
    if isinstance(value, str):
        return scrub(value)[:MAX_ERROR_CHARS]
    if isinstance(value, Mapping):
        return {scrub(str(k)): _scrub_json(v) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return None
