"""The dispatcher process's loop: sweep the outbox, record outcomes, reap, purge.

One thread does everything in turn, so there is no locking to reason about: send what is
due, drain the outcome queue for a moment (recording a batch in one transaction and
acknowledging it only after the commit), and now and then look for lost attempts, purge
expired deleted secrets and prune the embedded broker's consumed files. A broker or database
outage is logged and waited out; nothing is dropped, because nothing is acknowledged or
marked sent before it is safely stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kombu import Connection
from kombu.simple import SimpleQueue
from kombu.transport.virtual import QoS as VirtualQoS

from hub.broker import outcome_queue
from hub.dispatch import Dispatcher

logger = logging.getLogger("hub.dispatcher")


@dataclass(frozen=True)
class Intervals:
    """Seconds between the loop's chores."""

    sweep: float = 0.25
    reap: float = 5.0
    purge: float = 3600.0
    drain: float = 0.2
    """How long one drain of the outcome queue waits for a first message."""
    outage: float = 1.0
    """Pause after a broker or database error before trying again."""


class StopSignal(Protocol):
    """Polled between rounds: a `threading.Event`, or a flag a signal handler sets."""

    def is_set(self) -> bool: ...


class OutcomeInbox:
    """The `hub.outcomes` queue, read in batches; messages are acknowledged by the caller."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect
        self._connection: Connection | None = None
        self._queue: SimpleQueue | None = None

    def drain(self, *, limit: int, timeout: float) -> list[Any]:
        """Up to `limit` messages: waits `timeout` for the first, takes the rest if ready."""
        if self._queue is None:
            self._connection = self._connect()
            self._queue = self._connection.SimpleQueue(outcome_queue, no_ack=False)
        messages = []
        try:
            messages.append(self._queue.get(block=True, timeout=timeout))
            while len(messages) < limit:
                messages.append(self._queue.get_nowait())
        except SimpleQueue.Empty:
            pass
        return messages

    def acknowledge(self, messages: Sequence[Any]) -> None:
        """Acknowledge a batch whose outcomes are committed.

        On Redis kombu acknowledges one message per round trip; here the whole batch goes in
        one pipeline of the same commands (kombu's own, from its Redis QoS). Other transports,
        or a kombu without that hook, acknowledge one by one.
        """
        qos = getattr(self._queue.channel, "qos", None) if self._queue is not None else None
        remove = getattr(qos, "_remove_from_indices", None)
        if qos is None or remove is None or len(messages) < 2:
            for message in messages:
                message.ack()
            return
        with qos.pipe_or_acquire() as pipe:
            for message in messages:
                remove(message.delivery_tag, pipe)
            pipe.execute()
        for message in messages:  # the channel's own bookkeeping of unacknowledged tags
            VirtualQoS.ack(qos, message.delivery_tag)

    def close(self) -> None:
        for closable in (self._queue, self._connection):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # noqa: S110 (closing a broken connection may fail; it is gone)
                pass
        self._queue = self._connection = None


class DispatchLoop:
    """Runs a `Dispatcher` until `stop` is set."""

    def __init__(self, dispatcher: Dispatcher, inbox: OutcomeInbox, *,
                 purge: Callable[[], object] | None = None,
                 prune: Callable[[], object] | None = None,
                 intervals: Intervals = Intervals(), batch: int = 500) -> None:
        self.dispatcher = dispatcher
        self.inbox = inbox
        self.purge = purge
        self.prune = prune
        self.intervals = intervals
        self.batch = batch
        self._next: dict[str, float] = {}

    def run(self, stop: StopSignal) -> None:
        logger.info("dispatcher started")
        try:
            while not stop.is_set():
                self.once()
        finally:
            self.inbox.close()
            logger.info("dispatcher stopped")

    def once(self) -> None:
        """One round of every chore that is due, then one drain of the outcome queue."""
        self._chore("sweep", self.intervals.sweep, self._sweep)
        self._chore("reap", self.intervals.reap, self.dispatcher.reap_lost)
        if self.purge is not None:
            self._chore("purge", self.intervals.purge, self.purge)
        if self.prune is not None:
            self._chore("prune", self.intervals.reap, self.prune)
        self._chore("outcomes", 0.0, self._record_outcomes)

    def _sweep(self) -> None:
        # Keep going while full batches go out, so a backlog drains at full speed.
        while True:
            report = self.dispatcher.sweep()
            if report.sent or report.failed:
                logger.debug("swept: %d sent, %d failed, %d deferred",
                             report.sent, report.failed, report.deferred)
            if report.deferred or report.sent + report.failed < self.dispatcher.batch_size:
                return

    def _record_outcomes(self) -> None:
        try:
            messages = self.inbox.drain(limit=self.batch, timeout=self.intervals.drain)
        except Exception:
            self.inbox.close()
            raise
        if not messages:
            return
        self.dispatcher.record_outcomes([message.payload for message in messages])
        self.inbox.acknowledge(messages)  # only now: the outcomes are committed

    def _chore(self, name: str, every: float, chore: Callable[[], object]) -> None:
        now = time.monotonic()
        if self._next.get(name, 0.0) > now:
            return
        try:
            chore()
            self._next[name] = time.monotonic() + every
        except Exception as exc:
            # Value-free: the type says "database down" or "broker down" well enough; the
            # chore runs again after a pause and nothing was acknowledged or lost.
            logger.warning("dispatcher %s failed (%s); retrying in %.0fs",
                           name, type(exc).__name__, self.intervals.outage)
            self._next[name] = time.monotonic() + self.intervals.outage
            if name == "outcomes":
                time.sleep(min(self.intervals.outage, 1.0))
