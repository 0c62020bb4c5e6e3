"""The calendar's operations of the JSON API (``/api/v1``): the reservations, absences and
pointage (attended days) of a period, for the ERP (scope ``agenda:read``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from attrs import frozen

from famille_core.entities import Absence, Attendance, Reservation, Scope
from famille_core.uow import Between, In, UnitOfWork
from famille_plugins.calendar.services.timeline import superseded
from host_flask import toolkit as tk


@frozen(kw_only=True)
class ReservationOut:
    """A day reservation."""

    id: int
    child_id: int
    family_id: int
    activity_id: int
    day: date
    state: str
    created_at: datetime
    decided_at: datetime | None
    absent: bool
    """An absence of the same child, activity and day supersedes this booking: the day is
    "absent", as in the Agenda, the home panel and the iCalendar feed."""


@frozen(kw_only=True)
class AbsenceOut:
    """An absence."""

    id: int
    child_id: int
    family_id: int
    activity_id: int
    day: date
    reason_code: str
    reason_label: str
    billable: bool
    created_at: datetime


PERIOD_PARAMS = tk.DATE_RANGE + tk.PAGE_PARAMS + tk.FAMILY_FILTER


@tk.api_operation(
    "GET",
    "/reservations",
    summary="Réservations d'une période (paginé)",
    scope=Scope.AGENDA_READ,
    response=tk.page_of(ReservationOut),
    params=PERIOD_PARAMS,
)
def list_reservations() -> Any:
    return tk.api_page(
        ReservationOut,
        Reservation,
        ("day", "id"),
        derived=_absent,
        **tk.api_period(),
        **tk.query_filters(family_id="int"),
    )


def _absent(uow: UnitOfWork, rows: list[Reservation]) -> list[dict[str, Any]]:
    """``absent`` for a page of bookings (one query)."""
    if not rows:
        return []
    days = [r.day for r in rows]
    absences = uow.find(
        Absence, child_id=In({r.child_id for r in rows}), day=Between(min(days), max(days))
    )
    gone = superseded(rows, absences)
    return [{"absent": r.id in gone} for r in rows]


@tk.api_operation(
    "GET",
    "/absences",
    summary="Absences d'une période (paginé)",
    scope=Scope.AGENDA_READ,
    response=tk.page_of(AbsenceOut),
    params=PERIOD_PARAMS,
)
def list_absences() -> Any:
    return tk.api_page(
        AbsenceOut, Absence, ("day", "id"), **tk.api_period(), **tk.query_filters(family_id="int")
    )


@frozen(kw_only=True)
class AttendanceOut:
    """One child's pointage on one day of an activity (docs/calendar.md, "Pointage")."""

    id: int
    child_id: int
    family_id: int
    activity_id: int
    day: date
    present: bool
    unexpected: bool
    """The child came without a booking."""
    marked_at: datetime


@tk.api_operation(
    "GET",
    "/attendance",
    summary="Pointage d'une période : présences par enfant, activité et jour (paginé)",
    scope=Scope.AGENDA_READ,
    response=tk.page_of(AttendanceOut),
    params=PERIOD_PARAMS,
)
def list_attendance() -> Any:
    return tk.api_page(
        AttendanceOut, Attendance, ("day", "id"), **tk.api_period(), **tk.query_filters(family_id="int")
    )


OPERATIONS = (list_reservations, list_absences, list_attendance)
