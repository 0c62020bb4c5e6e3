"""Time, injectable.

Every rule that depends on "now" (deadlines, token expiry) asks the portal's clock, so tests
can move time across a daylight-saving change without sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
"""Legal time of metropolitan France: every deadline and displayed date uses it."""

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
"""The days the portal handles (a grandparent's birth date, an enrolment far ahead). A date
outside is refused where it comes in (forms, API bodies, queries), so that no computation — a
month grid, the day before, public holidays — leaves Python's date range."""


def handled_day(day: date) -> bool:
    """True when ``day`` is within :data:`FIRST_DAY` … :data:`LAST_DAY`."""
    return FIRST_DAY <= day <= LAST_DAY


class Clock(Protocol):
    """Source of the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self.instant += delta


def today_in_paris(clock: Clock) -> date:
    """Today's date in Europe/Paris."""
    return clock.now().astimezone(PARIS).date()


def paris_datetime(day: date, hour: int, minute: int = 0) -> datetime:
    """The aware instant of ``day`` at ``hour:minute``, Paris legal time (DST-correct)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
