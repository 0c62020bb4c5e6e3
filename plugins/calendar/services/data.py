"""What the calendar gives out of its records: its sections of "Mes données", its ``famille
export`` kinds for the ERP and its events in the domain feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from famille_core.entities import (
    Absence,
    Activity,
    Attendance,
    CalendarFeed,
    Child,
    Family,
    Reservation,
    SupportingDocument,
)
from famille_core.hooks.results import EventPolicy, ExportKind, FeedEvent
from famille_core.services.export import records
from famille_core.uow import Between, In, UnitOfWork


def family_sections(uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """The household's bookings, absences, justificatifs, pointage and calendar subscriptions."""
    return {
        "reservations": records(uow.find(Reservation, family_id=family_id, order_by=("day", "id"))),
        "absences": records(uow.find(Absence, family_id=family_id, order_by=("day", "id"))),
        "supporting_documents": records(uow.find(SupportingDocument, family_id=family_id, order_by=("id",))),
        "attendance": records(uow.find(Attendance, family_id=family_id, order_by=("day", "id"))),
        "calendar_feeds": records(uow.find(CalendarFeed, family_id=family_id)),
    }


# --------------------------------------------------------------------------- famille export


def _names(
    uow: UnitOfWork, rows: list[Any]
) -> tuple[dict[int, Child], dict[int, Activity], dict[int, Family]]:
    if not rows:
        return {}, {}, {}
    children = uow.find(Child, id=In({r.child_id for r in rows}))
    activities = uow.find(Activity, id=In({r.activity_id for r in rows}))
    families = uow.find(Family, id=In({r.family_id for r in rows}))
    return (
        {c.id: c for c in children if c.id is not None},
        {a.id: a for a in activities if a.id is not None},
        {f.id: f for f in families if f.id is not None},
    )


def _rows(cls: type[Reservation] | type[Absence]) -> Callable[[UnitOfWork, date, date], Iterator[dict[str, Any]]]:
    def rows(uow: UnitOfWork, start: date, end: date) -> Iterator[dict[str, Any]]:
        """The period's rows by day, named as the ERP knows them (a constant number of queries)."""
        found: list[Any] = uow.find(cls, day=Between(start, end), order_by=("day", "id"))
        children, activities, families = _names(uow, found)
        for row in found:
            family = families[row.family_id]
            item = {
                "id": row.id,
                "day": row.day.isoformat(),
                "family": family.external_id or family.family_number,
                "child": children[row.child_id].external_id or str(row.child_id),
                "activity": activities[row.activity_id].code,
            }
            if isinstance(row, Reservation):
                item["state"] = row.state.value
            else:
                item |= {"reason": row.reason_code, "billable": row.billable}
            yield item

    return rows


EXPORT_KINDS = (
    ExportKind(name="reservations", description="Réservations par jour.", rows=_rows(Reservation)),
    ExportKind(name="absences", description="Absences par jour.", rows=_rows(Absence)),
)


# --------------------------------------------------------------------------- domain events


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


def _booking(reservation: Reservation) -> FeedEvent:
    state = _state(reservation.state)
    payload = {"child_id": reservation.child_id, "activity_id": reservation.activity_id}
    return FeedEvent(
        kind=f"reservation.{state}", payload={**payload, "day": reservation.day, "state": state}
    )


def _absence(kind: str, absence: Absence, **more: Any) -> FeedEvent:
    payload = {"child_id": absence.child_id, "activity_id": absence.activity_id}
    return FeedEvent(kind=kind, payload={**payload, "day": absence.day, **more})


EVENT_POLICIES = (
    EventPolicy(
        entity_type=Reservation,
        entity="reservation",
        created=_booking,
        changed=lambda reservation, changed: _booking(reservation) if changed("state") else None,
    ),
    EventPolicy(
        entity_type=Absence,
        entity="absence",
        created=lambda a: _absence("absence.declared", a, reason_code=a.reason_code),
        deleted=lambda a: _absence("absence.withdrawn", a),
    ),
)
"""Reservations requested, accepted, refused, cancelled; absences declared and withdrawn."""
