"""What the rules need to know about children over a range of days, loaded in a constant number
of queries (whatever the number of children, activities and days), and the state of each day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from attrs import define, field, frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Child,
    Enrollment,
    Reservation,
    ReservationState,
)
from famille_core.uow import Between, Gte, In, Lte, UnitOfWork
from famille_plugins.calendar.services.calendar_days import closed_days_for
from famille_plugins.calendar.services.deadlines import cancellation_deadline, reservation_deadline

if TYPE_CHECKING:
    from famille_core.portal import Portal


class State:
    """The codes of a day's state for one activity (their words: :data:`LEGEND`)."""

    CLOSED = "closed"
    NOT_ENROLLED = "not_enrolled"
    BOOKABLE = "bookable"
    REQUESTED = "requested"
    BOOKED = "booked"
    REFUSED = "refused"
    ABSENT = "absent"
    LOCKED = "locked"


LEGEND: tuple[tuple[str, str], ...] = (
    (State.BOOKABLE, "réservable"),
    (State.REQUESTED, "demande en cours"),
    (State.BOOKED, "réservé"),
    (State.REFUSED, "refusé"),
    (State.ABSENT, "absent"),
    (State.LOCKED, "verrouillé (délai dépassé)"),
    (State.CLOSED, "fermé"),
    (State.NOT_ENROLLED, "non inscrit"),
)
"""``(code, words)`` in the order of the legend; each state's icon is an inline SVG of the
calendar's templates (``calendar/icons.html``), always next to its words."""

WORDS = {code: words.split(" (")[0] for code, words in LEGEND}


@frozen(kw_only=True)
class DayState:
    """The state of one day for one activity of one child, and what the family may do."""

    code: str
    detail: str = ""
    """Why (closed day's reason, absence reason, refusal reason, deadline)."""
    can_reserve: bool = False
    can_cancel: bool = False
    can_declare_absence: bool = False
    can_withdraw_absence: bool = False
    reservation: Reservation | None = None
    absence: Absence | None = None

    @property
    def words(self) -> str:
        """The state in words (always shown next to its icon)."""
        if self.code == State.ABSENT and self.detail:
            return f"absent ({self.detail})"
        return WORDS[self.code]


@define(kw_only=True)
class ChildDays:
    """One child's enrolments, bookings and absences over ``[start, end]``."""

    child: Child
    family_id: int
    start: date
    end: date
    enrolments: list[Enrollment] = field(factory=list)
    activities: list[Activity] = field(factory=list)
    reservations: dict[tuple[int, date], Reservation] = field(factory=dict)
    absences: dict[tuple[int, date], Absence] = field(factory=dict)
    closed: dict[int, dict[date, str]] = field(factory=dict)

    def enrolled(self, activity_id: int, day: date) -> bool:
        """True when an enrolment covers ``day`` for the activity."""
        for e in self.enrolments:  # a loop, not any(): asked for every day of the month grid
            if e.activity_id == activity_id and e.start_date <= day <= e.end_date:
                return True
        return False


def load_days(
    portal: Portal,
    uow: UnitOfWork,
    family_id: int,
    children: Sequence[Child],
    start: date,
    end: date,
    activity_ids: Sequence[int] | None = None,
    *,
    activities: Sequence[Activity] | None = None,
) -> dict[int, ChildDays]:
    """Load everything about ``children`` (of household ``family_id``) over ``[start, end]``:
    four queries, whatever their number (three when ``activities``, already read, are the only
    ones wanted: their ids replace ``activity_ids``)."""
    known = {a.id: a for a in activities or () if a.id is not None}
    if activities is not None:
        activity_ids = list(known)
    ids = [c.id for c in children if c.id is not None]
    result = {
        c.id: ChildDays(child=c, family_id=family_id, start=start, end=end)
        for c in children
        if c.id is not None
    }
    if not ids:
        return result
    criteria: dict[str, Any] = {} if activity_ids is None else {"activity_id": In(activity_ids)}
    enrolments = uow.find(
        Enrollment,
        child_id=In(ids),
        family_id=family_id,
        start_date=Lte(end),
        end_date=Gte(start),
        order_by=("activity_id",),
        **criteria,
    )
    wanted = {e.activity_id for e in enrolments}
    by_id: dict[int, Activity] = {}
    if wanted <= known.keys():
        by_id = {i: known[i] for i in sorted(wanted)}
    elif wanted:
        by_id = {a.id: a for a in uow.find(Activity, id=In(wanted), order_by=("id",)) if a.id is not None}
    reservations = uow.find(Reservation, child_id=In(ids), day=Between(start, end), **criteria)
    absences = uow.find(Absence, child_id=In(ids), day=Between(start, end), **criteria)
    closed = closed_days_for(portal, by_id.values(), start, end)
    for enrolment in enrolments:
        days = result[enrolment.child_id]
        days.enrolments.append(enrolment)
        activity = by_id.get(enrolment.activity_id)
        if activity is not None and activity not in days.activities:
            days.activities.append(activity)
    for days in result.values():
        days.closed = {a.id: closed.get(a.id, {}) for a in days.activities if a.id is not None}
    for reservation in reservations:
        result[reservation.child_id].reservations[(reservation.activity_id, reservation.day)] = reservation
    for absence in absences:
        result[absence.child_id].absences[(absence.activity_id, absence.day)] = absence
    return result


def day_state(
    portal: Portal, days: ChildDays, activity: Activity, day: date, now: datetime, today: date | None = None
) -> DayState:
    """The state of ``day`` for ``activity`` and the actions the family may take (``today``:
    Paris's day of ``now``, given by callers that ask for many days)."""
    assert activity.id is not None
    if not days.enrolled(activity.id, day):
        return DayState(code=State.NOT_ENROLLED)
    closed = days.closed.get(activity.id, {}).get(day)
    if closed is not None:
        return DayState(code=State.CLOSED, detail=closed)
    if today is None:
        today = today_in_paris(portal.clock)
    upcoming = day >= today
    absence = days.absences.get((activity.id, day))
    reservation = days.reservations.get((activity.id, day))
    own = reservation is not None and reservation.family_id == days.family_id
    if absence is not None:
        return DayState(
            code=State.ABSENT,
            detail=absence.reason_label,
            absence=absence,
            reservation=reservation,
            can_withdraw_absence=upcoming and absence.family_id == days.family_id,
        )
    if reservation is not None and reservation.state != ReservationState.CANCELLED:
        can_cancel = (
            own
            and reservation.is_active
            and upcoming
            and now <= cancellation_deadline(portal, activity, day)
        )
        if reservation.state == ReservationState.REFUSED:
            # The agent wrote the reason to the household that asked: a child's other
            # household (separated parents) sees the day refused, never why.
            return DayState(
                code=State.REFUSED,
                detail=reservation.refusal_reason if own else "",
                reservation=reservation,
                can_reserve=upcoming and now <= reservation_deadline(portal, activity, day),
                can_declare_absence=False,
            )
        code = State.BOOKED if reservation.state == ReservationState.ACCEPTED else State.REQUESTED
        return DayState(
            code=code,
            reservation=reservation,
            can_cancel=can_cancel,
            can_declare_absence=upcoming,
        )
    if not upcoming or now > reservation_deadline(portal, activity, day):
        return DayState(code=State.LOCKED, can_declare_absence=upcoming, reservation=reservation)
    return DayState(
        code=State.BOOKABLE, can_reserve=True, can_declare_absence=True, reservation=reservation
    )
