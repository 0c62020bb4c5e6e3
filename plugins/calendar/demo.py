"""Demo data of the calendar plugin: a few booked days, a pending request and an absence."""

from __future__ import annotations

from datetime import timedelta

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Child,
    Enrollment,
    Reservation,
    ReservationState,
)
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_plugins.calendar.services.calendar_days import closed_days_for
from famille_plugins.calendar.services.reasons import reasons_for


def populate(portal: Portal, uow: UnitOfWork) -> None:
    """Book the next open canteen days of Lucas DUPONT (when the core demo has him)."""
    lucas = uow.first(Child, first_name="Lucas", last_name="DUPONT")
    cantine = uow.first(Activity, code="CANTINE")
    soir = uow.first(Activity, code="SOIR")
    if lucas is None or cantine is None or soir is None or lucas.id is None:
        return
    enrolment = uow.first(Enrollment, child_id=lucas.id, activity_id=cantine.id)
    if enrolment is None or uow.count(Reservation, child_id=lucas.id) > 0:
        return
    today = today_in_paris(portal.clock)
    start, end = today + timedelta(days=7), today + timedelta(days=35)
    closed = closed_days_for(portal, [cantine, soir], start, end)
    open_days = [
        start + timedelta(days=n)
        for n in range((end - start).days + 1)
        if start + timedelta(days=n) not in closed[cantine.id or 0]
    ]
    now = portal.clock.now()
    for day in open_days[:3]:
        uow.add(
            Reservation(
                child_id=lucas.id,
                activity_id=cantine.id or 0,
                family_id=enrolment.family_id,
                day=day,
                state=ReservationState.ACCEPTED,
                created_at=now,
                decided_at=now,
            )
        )
    soir_days = [d for d in open_days if d not in closed[soir.id or 0]]
    if soir_days:
        uow.add(
            Reservation(
                child_id=lucas.id,
                activity_id=soir.id or 0,
                family_id=enrolment.family_id,
                day=soir_days[0],
                state=ReservationState.REQUESTED,
                created_at=now,
            )
        )
    reasons = {r.code: r for r in reasons_for(portal)}
    reason = reasons.get("MEDICAL") or next(iter(reasons.values()), None)
    if len(open_days) > 3 and reason is not None:
        uow.add(
            Absence(
                child_id=lucas.id,
                activity_id=cantine.id or 0,
                family_id=enrolment.family_id,
                day=open_days[3],
                reason_code=reason.code,
                reason_label=reason.label,
                billable=reason.billable,
                created_at=now,
            )
        )
    uow.flush()
