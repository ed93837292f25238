"""Injected time. Nothing in giftledger reads the wall clock except :class:`SystemClock`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from .._boundary import boundary_methods, shown
from .._errors import InvalidArgument

__all__ = ["Clock", "ManualClock", "SystemClock", "require_aware"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` returning a timezone-aware ``datetime``."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@boundary_methods
class ManualClock:
    """A clock that moves only when told to: for tests, simulations and replays.

    It never goes backwards, so an expired hold cannot come back to life.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> clock.advance(timedelta(hours=1)).hour
        1
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = require_aware(start or datetime(2026, 1, 1, tzinfo=UTC), "clock start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (which must not be negative); return the new time."""
        if not isinstance(delta, timedelta):
            raise InvalidArgument(f"advance by {shown(delta)}: a ManualClock moves by a timedelta")
        if delta < timedelta(0):
            raise InvalidArgument(f"a ManualClock cannot go backwards (advance by {delta})")
        with self._lock:
            self._now = self._now + delta
            return self._now

    def set(self, when: datetime) -> datetime:
        """Move forward to ``when``; moving backwards is an error."""
        when = require_aware(when, "clock time")
        with self._lock:
            if when < self._now:
                raise InvalidArgument(
                    f"a ManualClock cannot go backwards from {self._now.isoformat()} "
                    f"to {when.isoformat()}"
                )
            self._now = when
            return when


def require_aware(when: object, what: str) -> datetime:
    """Return ``when`` converted to UTC, refusing naive datetimes and non-datetimes."""
    if not isinstance(when, datetime):
        raise InvalidArgument(f"{what} {shown(when)} must be a datetime")
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidArgument(
            f"{what} {when.isoformat()} has no timezone; pass an aware datetime "
            f"(for example with tzinfo=timezone.utc)"
        )
    return when.astimezone(UTC)
