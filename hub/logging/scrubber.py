"""The scrubber: a registry of secret values and the masking of their forms in any text.

`add()` registers a value (and, through `hub.logging.forms`, every encoding of it); `scrub()`
returns a text with every occurrence of any of them replaced by `REDACTED`. Ranges found by
all matchers are merged before anything is replaced, so the result never depends on the order
values were added in, and overlapping values are masked whole.

Registration must be cheap while other threads log, and the logging hot path must never wait
for an automaton to be rebuilt. The values therefore live in runs, like an LSM tree: each
`add()` compiles a tiny automaton for just its own values and publishes it by swapping one
tuple; a background thread later folds the small runs into a middle one, and the middle into a
big base run, off the hot path. Expired and evicted values are dropped only when the base is
rebuilt, so a value is always masked at least as long as promised, and never shorter.

Lifetimes: a value registered with `ttl` is kept at least that long (measured with the
injected clock); re-adding it extends it. Past `max_values` the least recently added values
are dropped at the next rebuild, so a long-lived worker does not grow for ever.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hub.errors import InvalidInput
from hub.logging.forms import Form, forms_of
from hub.logging.matcher import Matcher, Range

REDACTED = "[REDACTED]"

#: The shortest value `add()` accepts by default: the secret store's own floor.
DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_VALUES = 50_000

#: Fold the tiny per-registration runs into the middle run once there are this many.
_MAX_TINY_RUNS = 4
#: The most values one registration compiles when it folds trailing runs into its own: the
#: bound on a registration's own work (16 made the slowest registrations twice as slow).
_MAX_FOLD_VALUES = 8
#: Rebuild the base once the middle run holds this many values (or a tenth of the base).
_MAX_MIDDLE_VALUES = 512
#: Expired values are dropped by a base rebuild at most this often (seconds of the clock).
_EXPIRY_INTERVAL = 30.0

Clock = Callable[[], float]
Value = str | bytes


@dataclass
class _Entry:
    label: str | None
    expires_at: float | None
    seq: int
    #: Computed once at registration: every later fold and rebuild reuses them.
    forms: list[Form]


@dataclass(frozen=True)
class _Run:
    matcher: Matcher
    values: frozenset[Value]


class Scrubber:
    """Registered secret values, and `scrub(text)` that masks every form of them."""

    def __init__(self, *, min_length: int = DEFAULT_MIN_LENGTH,
                 max_values: int = DEFAULT_MAX_VALUES, clock: Clock = time.monotonic,
                 background: bool = True) -> None:
        if min_length < 1 or max_values < 1:
            raise InvalidInput("min_length and max_values must be positive")
        self.min_length = min_length
        self.max_values = max_values
        #: Records replaced by a fixed line because scrubbing them failed.
        self.suppressed_records = 0
        self._clock = clock
        self._background = background
        self._entries: dict[Value, _Entry] = {}
        self._seq = itertools.count()
        self._runs: tuple[_Run, ...] = ()
        #: Runs before this index are the base and middle, or are being folded by a compaction.
        self._stable = 0
        #: When a base rebuild would next find something expired (None: nothing expires).
        self._expiry_due_at: float | None = None
        # What the hot path reads: one tuple, swapped whole, never mutated.
        self._matchers: tuple[Matcher, ...] = ()
        self._reset_concurrency()
        _LIVE.add(self)

    def _reset_concurrency(self) -> None:
        self._lock = threading.Lock()
        self._compacting = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- registering ------------------------------------------------------------------------

    def add(self, value: Value, label: str | None = None, *, ttl: float | None = None) -> None:
        """Mask `value` and its forms from now on: for `ttl` seconds at least, or until evicted.

        Raises `InvalidInput` for anything but a str or bytes at least `min_length` long; the
        message never contains the value.
        """
        self.add_many([value], label, ttl=ttl)

    def add_many(self, values: Iterable[Value], label: str | None = None, *,
                 ttl: float | None = None) -> None:
        """`add()` several values at once (one task's): one small automaton for all of them."""
        values = list(values)
        for value in values:
            self._check(value)
        if ttl is not None and ttl < 0:
            raise InvalidInput("ttl must not be negative")
        expires_at = None if ttl is None else self._clock() + ttl
        with self._lock:
            new = [v for v in dict.fromkeys(values) if not self._refresh(v, expires_at)]
            if not new:
                return
            # If compaction falls behind, tiny runs would pile up and every log line would pay
            # one scan per run. Like a binary counter, fold into the new run the trailing runs
            # no bigger than it (never the base, the middle, or runs a compaction is folding):
            # the number of runs stays logarithmic, and so does the work per value. A cap keeps
            # one registration's own work small while a long compaction runs.
            folded: list[_Run] = []
            size = len(new)
            for run in reversed(self._runs[self._stable:]):
                if len(run.values) > size or size + len(run.values) > _MAX_FOLD_VALUES:
                    break
                folded.append(run)
                size += len(run.values)
            known = self._forms_of(v for run in folded for v in run.values)
        # Computed and compiled outside the lock: other registrations do not wait for it.
        forms = {value: forms_of(value) for value in new}
        merged = [*known, *(form for value_forms in forms.values() for form in value_forms)]
        run = _Run(Matcher(merged), frozenset(new).union(*(run.values for run in folded)))
        with self._lock:
            for value in new:
                self._entries[value] = _Entry(label, expires_at, next(self._seq), forms[value])
            if expires_at is not None and (self._expiry_due_at is None
                                           or expires_at < self._expiry_due_at):
                self._expiry_due_at = expires_at
            runs = self._runs
            keep = len(runs) - len(folded)
            trailing = runs[keep:]
            if (folded and keep >= self._stable and len(trailing) == len(folded)
                    and all(a is b for a, b in zip(trailing, reversed(folded), strict=True))):
                runs = runs[:keep]  # still the trailing runs: replace them
            # Otherwise a compaction took them meanwhile; the copy in `run` is harmless.
            self._publish((*runs, run))
            due = self._compaction_due()
        if due:
            self._request_compaction()

    def _check(self, value: object) -> None:
        if not isinstance(value, str | bytes):
            raise InvalidInput(f"a value to mask must be str or bytes, not {type(value).__name__}")
        if len(value) < self.min_length:
            raise InvalidInput(
                f"a value to mask must be at least {self.min_length} characters long "
                "(shorter ones would mask ordinary text)"
            )

    def _forms_of(self, values: Iterable[Value]) -> list[Form]:
        """The cached forms of registered values (computed afresh if one was dropped). Locked."""
        forms: list[Form] = []
        for value in values:
            entry = self._entries.get(value)
            forms.extend(forms_of(value) if entry is None else entry.forms)
        return forms

    def _refresh(self, value: Value, expires_at: float | None) -> bool:
        """Extend an already registered value; False if it is new. Caller holds the lock."""
        entry = self._entries.get(value)
        if entry is None:
            return False
        if entry.expires_at is not None:
            entry.expires_at = None if expires_at is None else max(entry.expires_at, expires_at)
        entry.seq = next(self._seq)
        return True

    def __len__(self) -> int:
        return len(self._entries)

    # -- scrubbing (the hot path: no lock, no allocation when nothing matches) ---------------

    def find(self, text: str) -> list[Range]:
        """The ranges of `text` that hold a registered value or a form of one (unmerged)."""
        ranges: list[Range] = []
        for matcher in self._matchers:
            found = matcher.find(text)
            if found:
                ranges.extend(found)
        return ranges

    def scrub(self, text: str) -> str:
        """`text` with every registered value, form and cut-off fragment replaced."""
        ranges = self.find(text)
        return mask(text, ranges) if ranges else text

    # -- compaction (off the hot path) -------------------------------------------------------

    def _publish(self, runs: tuple[_Run, ...]) -> None:
        self._runs = runs
        self._matchers = tuple(run.matcher for run in runs if run.matcher.size)

    def _compaction_due(self) -> bool:
        if len(self._runs) <= 2:
            return len(self._entries) > self.max_values
        return True if len(self._runs) - 2 >= _MAX_TINY_RUNS else self._base_due()

    def _base_due(self) -> bool:
        if len(self._entries) > self.max_values or self._any_expired():
            return True
        if len(self._runs) < 2:
            return False
        base, middle = self._runs[0], self._runs[1]
        return len(middle.values) > max(_MAX_MIDDLE_VALUES, len(base.values) // 10)

    def _any_expired(self) -> bool:
        return self._expiry_due_at is not None and self._expiry_due_at <= self._clock()

    def _request_compaction(self) -> None:
        if not self._background:
            self.compact(full=False)
            return
        self._wake.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=_compact_forever, args=(weakref.ref(self),),
                                            name="scrubber-compaction", daemon=True)
            self._thread.start()

    def compact(self, *, full: bool = True) -> None:
        """Fold runs together now; `full` rebuilds the base, dropping expired/evicted values."""
        with self._compacting:
            with self._lock:
                runs = self._runs
                self._stable = len(runs)
                full = full or len(runs) <= 1 or self._base_due()
                if full:
                    keep = self._live_values()
                    merged: Iterable[_Run] = runs
                else:
                    # Fold only the runs after the base: quick, and the base is left alone.
                    merged = runs[1:]
                    keep = set().union(*(run.values for run in merged)) & self._entries.keys()
                forms = self._forms_of(keep)
            # Compiled without the lock: additions carry on in new tiny runs meanwhile.
            run = _Run(Matcher(forms), frozenset(keep))
            with self._lock:
                later = self._runs[len(runs):]
                prefix = () if full else self._runs[:1]
                self._publish((*prefix, run, *later))
                self._stable = len(prefix) + 1

    def _live_values(self) -> set[Value]:
        """Drop expired values, then the least recently added past `max_values`. Locked."""
        now = self._clock()
        for value in [v for v, e in self._entries.items()
                      if e.expires_at is not None and e.expires_at <= now]:
            del self._entries[value]
        upcoming = [e.expires_at for e in self._entries.values() if e.expires_at is not None]
        # Not sooner than the interval: one rebuild per expiring task would be wasteful.
        self._expiry_due_at = (max(min(upcoming), now + _EXPIRY_INTERVAL)
                               if upcoming else None)
        overflow = len(self._entries) - self.max_values
        if overflow > 0:
            oldest = sorted(self._entries, key=lambda v: self._entries[v].seq)[:overflow]
            for value in oldest:
                del self._entries[value]
        return set(self._entries)

    def _after_fork_in_child(self) -> None:
        # A lock held by a parent thread at fork time would never be released here, and the
        # compaction thread did not survive the fork. The runs are intact: nothing is lost.
        self._reset_concurrency()


def mask(text: str, ranges: list[Range]) -> str:
    """Replace the union of `ranges` in `text` by `REDACTED`, never cutting an escape."""
    pieces: list[str] = []
    position = 0
    for start, end in _merge(text, ranges):
        pieces.append(text[position:start])
        pieces.append(REDACTED)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _merge(text: str, ranges: list[Range]) -> list[Range]:
    merged: list[list[int]] = []
    for start, end in sorted(_escape_safe(text, s, e) for s, e in ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _escape_safe(text: str, start: int, end: int) -> Range:
    """Grow a range so it neither starts nor ends inside a backslash escape (`\\n`, `\\u00e9`).

    A mask that swallowed half an escape would leave a stray backslash that breaks the JSON
    line it is in.
    """
    escape = _escape_around(text, start)
    if escape is not None and escape[0] < start:
        start = escape[0]
    escape = _escape_around(text, end)
    if escape is not None and escape[0] < end:
        end = escape[1]
    return start, end


def _escape_around(text: str, index: int) -> Range | None:
    """The escape sequence that straddles `index` (starts before it, ends after), if any."""
    window_start = max(0, index - 9)
    slash = text.rfind("\\", window_start, index)
    while slash >= 0:
        # An escape starts at a backslash preceded by an even number of backslashes.
        before = slash
        while before > 0 and text[before - 1] == "\\":
            before -= 1
        if (slash - before) % 2 == 0:
            end = slash + _escape_length(text, slash)
            return (slash, end) if end > index else None
        slash = text.rfind("\\", window_start, slash)
    return None


def _escape_length(text: str, slash: int) -> int:
    kind = text[slash + 1:slash + 2]
    return {"u": 6, "x": 4, "U": 10}.get(kind, 2)


def _compact_forever(ref: weakref.ref[Scrubber]) -> None:
    """The compaction thread: sleeps until a registration asks, folds runs, repeats."""
    while not _STOPPING.is_set():
        scrubber = ref()
        if scrubber is None:
            return
        wake = scrubber._wake
        del scrubber  # do not keep the scrubber alive while asleep
        if not wake.wait(timeout=60):
            continue
        wake.clear()
        scrubber = ref()
        if scrubber is None:
            return
        while not _STOPPING.is_set():
            with scrubber._lock:
                due = scrubber._compaction_due()
            if not due:
                break
            scrubber.compact(full=False)
        del scrubber


_LIVE: weakref.WeakSet[Scrubber] = weakref.WeakSet()
_STOPPING = threading.Event()


def _stop_compaction_at_exit() -> None:
    # A daemon thread still inside the Rust automaton build when the interpreter finalizes
    # aborts the process; let it finish its current build and stop.
    _STOPPING.set()
    for scrubber in list(_LIVE):
        scrubber._wake.set()
        thread = scrubber._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=30)


def _reset_after_fork() -> None:
    for scrubber in list(_LIVE):
        scrubber._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_after_fork)
atexit.register(_stop_compaction_at_exit)
