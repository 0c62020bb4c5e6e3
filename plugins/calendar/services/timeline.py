"""One truth for a day's state outside the month grid (home panel, iCalendar feed, API).

A child's day of an activity is one entry: an absence supersedes the booking of the same child,
activity and day (the grid's rule, :func:`famille_plugins.calendar.services.context.day_state`);
otherwise an accepted booking is "réservé" and a pending one "demande en cours". Cancelled and
refused bookings are no entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from attrs import frozen

from famille_core.entities import Absence, Reservation, ReservationState
from famille_plugins.calendar.services.context import DayState, State

ACTIVE_STATES = (ReservationState.ACCEPTED, ReservationState.REQUESTED)
"""The booking states that make a day an entry (when no absence supersedes them)."""


@frozen(kw_only=True)
class DayEntry:
    """One child's day of one activity, in its one state."""

    child_id: int
    activity_id: int
    day: date
    state: DayState

    @property
    def key(self) -> tuple[int, int, date]:
        """``(child_id, activity_id, day)``: one entry per key."""
        return (self.child_id, self.activity_id, self.day)

    @property
    def words(self) -> str:
        """The state in words: "réservé", "demande en cours", "absent (motif)"."""
        return self.state.words


def entries(reservations: Iterable[Reservation], absences: Iterable[Absence]) -> list[DayEntry]:
    """The entries of these bookings and absences, by day, child and activity; an absence
    supersedes the booking of the same child, activity and day."""
    found: dict[tuple[int, int, date], DayEntry] = {}
    for r in reservations:
        if r.state not in ACTIVE_STATES:
            continue
        code = State.BOOKED if r.state == ReservationState.ACCEPTED else State.REQUESTED
        entry = DayEntry(child_id=r.child_id, activity_id=r.activity_id, day=r.day, state=DayState(code=code, reservation=r))
        found[entry.key] = entry
    for a in absences:
        key = (a.child_id, a.activity_id, a.day)
        booked = found.get(key)
        state = DayState(
            code=State.ABSENT,
            detail=a.reason_label,
            absence=a,
            reservation=booked.state.reservation if booked is not None else None,
        )
        found[key] = DayEntry(child_id=a.child_id, activity_id=a.activity_id, day=a.day, state=state)
    return sorted(found.values(), key=lambda e: (e.day, e.child_id, e.activity_id))


def superseded(reservations: Iterable[Reservation], absences: Iterable[Absence]) -> set[int]:
    """The ids of the bookings an absence of the same child, activity and day supersedes."""
    absent = {(a.child_id, a.activity_id, a.day) for a in absences}
    return {
        r.id
        for r in reservations
        if r.id is not None and (r.child_id, r.activity_id, r.day) in absent
    }
