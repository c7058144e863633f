"""The one fake clock of the test suite: time moves only when a test says so.

Services take a `clock` callable; tests pass a `FakeClock`. `step` makes every reading a
little later than the one before (stable ordering without sleeping); `advance` jumps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime = datetime(2030, 1, 1, tzinfo=UTC), *,
                 step: timedelta = timedelta(0)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.now += timedelta(seconds=seconds, **delta)
