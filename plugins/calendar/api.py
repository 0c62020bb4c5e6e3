"""The calendar's operations of the JSON API (``/api/v1``): the reservations and absences of a
period, for the ERP (scope ``agenda:read``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from attrs import frozen

from famille_core.entities import Absence, Reservation, Scope
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
        ReservationOut, Reservation, ("day", "id"), **tk.api_period(), **tk.query_filters(family_id="int")
    )


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


OPERATIONS = (list_reservations, list_absences)
