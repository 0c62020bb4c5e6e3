"""The parent's month grid: one child, one month, each day's state per enrolled activity.

Built in a constant number of queries (children, enrolments, activities, reservations,
absences), whatever the number of children, activities and days.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from attrs import define, frozen

from famille_core.clock import FIRST_DAY, LAST_DAY, today_in_paris
from famille_core.entities import Absence, Activity, Actor, Child, Reservation, Role, User
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.services.access import children_of, require_family
from famille_core.uow import Gte, In, UnitOfWork
from famille_plugins.calendar.services import timeline
from famille_plugins.calendar.services.context import ChildDays, DayState, day_state, load_days


@frozen(kw_only=True)
class Cell:
    """One day of the grid."""

    day: date
    in_month: bool
    states: tuple[tuple[Activity, DayState], ...]

    @property
    def can_declare_absence(self) -> bool:
        """True when an absence may be declared for at least one activity."""
        return any(state.can_declare_absence for _, state in self.states)


@define(kw_only=True)
class MonthView:
    """Everything the Agenda page shows."""

    children: list[Child]
    child: Child | None
    month: date
    weeks: list[list[Cell]]
    activities: list[Activity]
    days: ChildDays | None

    @property
    def previous_month(self) -> date:
        """The first day of the previous month."""
        return (self.month - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        """The first day of the next month."""
        return (self.month + timedelta(days=32)).replace(day=1)

    def cell(self, day: date) -> Cell | None:
        """The cell of ``day`` when it is in the grid."""
        for week in self.weeks:
            for cell in week:
                if cell.day == day:
                    return cell
        return None


def month_end(month: date) -> date:
    """The last day of ``month``'s month."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def month_view(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int | None, month: date) -> MonthView:
    """The month grid of ``child_id`` (the first child when ``None``) for ``month``.

    :raises NotFound: ``child_id`` is not a child of the household.
    """
    family_id = require_family(actor)
    children = children_of(uow, family_id)
    month = min(max(month, FIRST_DAY), LAST_DAY).replace(day=1)  # the days the portal handles
    if child_id is None:
        child = children[0] if children else None
    else:
        child = next((c for c in children if c.id == child_id), None)
        if child is None:
            raise NotFound("Enfant introuvable.")
    grid = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    if child is None or child.id is None:
        return MonthView(children=children, child=None, month=month, weeks=[], activities=[], days=None)
    days = load_days(portal, uow, family_id, [child], grid[0][0], grid[-1][-1])[child.id]
    now = portal.clock.now()
    today = today_in_paris(portal.clock)
    weeks = [
        [
            Cell(
                day=day,
                in_month=day.month == month.month,
                states=tuple((a, day_state(portal, days, a, day, now, today)) for a in days.activities),
            )
            for day in week
        ]
        for week in grid
    ]
    return MonthView(
        children=children, child=child, month=month, weeks=weeks, activities=days.activities, days=days
    )


UPCOMING_DAYS = 5
"""How many days to come the home panel shows."""
ROWS_PER_QUERY = 200
"""A bound on the rows read per query for the home panel (far more than five days hold)."""


@frozen(kw_only=True)
class UpcomingLine:
    """One child's activity on a day to come, in its one state (:mod:`.timeline`)."""

    child: str
    activity: str
    words: str


@frozen(kw_only=True)
class UpcomingDay:
    """A day to come with something booked, requested or declared absent."""

    day: date
    lines: tuple[UpcomingLine, ...]


def _bounded(rows: list[Any]) -> tuple[list[Any], date | None]:
    """Rows ordered by day, and the last day they tell everything about when the query hit its
    bound (``None`` otherwise): the last day read may be partly read, so it is left out."""
    if len(rows) < ROWS_PER_QUERY:
        return rows, None
    kept = [r for r in rows if r.day < rows[-1].day]
    return kept, rows[-1].day - timedelta(days=1)


def upcoming(portal: Portal, uow: UnitOfWork, actor: Actor, days: int = UPCOMING_DAYS) -> list[UpcomingDay]:
    """The household's next ``days`` days with a booking, a request or an absence, each child's
    activity once: an absence supersedes the booking, as in the Agenda (four queries)."""
    family_id = require_family(actor)
    today = today_in_paris(portal.clock)
    order = ("day", "child_id", "activity_id")
    reservations, reservations_end = _bounded(
        uow.find(
            Reservation,
            family_id=family_id,
            day=Gte(today),
            state=In(list(timeline.ACTIVE_STATES)),
            order_by=order,
            limit=ROWS_PER_QUERY,
        )
    )
    absences, absences_end = _bounded(
        uow.find(Absence, family_id=family_id, day=Gte(today), order_by=order, limit=ROWS_PER_QUERY)
    )
    horizon = min((end for end in (reservations_end, absences_end) if end is not None), default=None)
    found = [e for e in timeline.entries(reservations, absences) if horizon is None or e.day <= horizon]
    chosen = sorted({e.day for e in found})[:days]
    found = [e for e in found if e.day in chosen]
    if not found:
        return []
    children = {c.id: c.first_name for c in uow.find(Child, id=In({e.child_id for e in found}))}
    activities = {a.id: a.label for a in uow.find(Activity, id=In({e.activity_id for e in found}))}
    return [
        UpcomingDay(
            day=day,
            lines=tuple(
                UpcomingLine(
                    child=children.get(e.child_id, ""), activity=activities.get(e.activity_id, ""), words=e.words
                )
                for e in sorted(found, key=lambda e: (children.get(e.child_id, ""), e.child_id, e.activity_id))
                if e.day == day
            ),
        )
        for day in chosen
    ]


def done_by_town(uow: UnitOfWork, cell: Cell | None) -> set[int]:
    """The reservations and absences of the selected day that the town made for the family (an
    agent acting for it: docs/agents.md), so the day panel says so; one query, none without a
    selected day."""
    if cell is None:
        return set()
    authors = {
        record.created_by
        for _activity, state in cell.states
        for record in (state.reservation, state.absence)
        if record is not None and record.created_by is not None
    }
    if not authors:
        return set()
    agents = {user.id for user in uow.find(User, id=In(authors), role=In([Role.AGENT, Role.ADMIN]))}
    return {user_id for user_id in authors if user_id in agents}
