"""When repeated wrong passwords lock a username (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    locked_until: dt.datetime | None


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    attempts: int = 5
    minutes: float = 15.0

    def locked_for(self, state: Failures | None, now: dt.datetime) -> float:
        """Seconds the username stays locked (0 when it may try)."""
        if state is None or state.locked_until is None or state.locked_until <= now:
            return 0.0
        return (state.locked_until - now).total_seconds()

    def after_failure(self, state: Failures | None, now: dt.datetime) -> Failures:
        count = 0 if state is None else state.count
        if state is not None and state.locked_until is not None and state.locked_until <= now:
            count = 0  # a lock that ran out starts a fresh series
        count += 1
        if count >= self.attempts:
            return Failures(count, now + dt.timedelta(minutes=self.minutes))
        return Failures(count, None)
