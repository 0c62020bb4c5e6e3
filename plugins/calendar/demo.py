"""Demo data of the calendar plugin: a few booked days, a pending request and an absence, and a
past canteen day with its named list and its pointage (Emma, with her allergy and PAI, and Hugo)."""

from __future__ import annotations

from datetime import timedelta

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Attendance,
    AttendanceMark,
    Child,
    Enrollment,
    Reservation,
    ReservationState,
    User,
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


def populate_attendance(portal: Portal, uow: UnitOfWork) -> None:
    """The last open canteen day before today: Hugo PETIT was booked but the demo agent marked
    him absent (no absence declared: a no-show), and Emma DUPONT (her allergy, her PAI) came
    without a booking, marked present as an unexpected child."""
    cantine = uow.first(Activity, code="CANTINE")
    agent = uow.first(User, email="agent@example.org")
    if cantine is None or cantine.id is None or uow.count(Attendance) > 0:
        return
    today = today_in_paris(portal.clock)
    start = today - timedelta(days=14)
    closed = closed_days_for(portal, [cantine], start, today)[cantine.id]
    past = [
        start + timedelta(days=n)
        for n in range((today - start).days)
        if start + timedelta(days=n) not in closed and (start + timedelta(days=n)).weekday() in cantine.weekday_set
    ]
    if not past:
        return
    day, now = past[-1], portal.clock.now()
    marked_by = agent.id if agent is not None else None
    for first_name, last_name, present in (("Emma", "DUPONT", True), ("Hugo", "PETIT", False)):
        child = uow.first(Child, first_name=first_name, last_name=last_name)
        enrolment = uow.first(Enrollment, child_id=child.id, activity_id=cantine.id) if child else None
        if child is None or child.id is None or enrolment is None:
            continue
        if not present:
            uow.add(
                Reservation(
                    child_id=child.id, activity_id=cantine.id, family_id=enrolment.family_id, day=day,
                    state=ReservationState.ACCEPTED, created_at=now, decided_at=now,
                )
            )
        row = Attendance(
            child_id=child.id, activity_id=cantine.id, family_id=enrolment.family_id, day=day,
            present=present, unexpected=present, marked_at=now, marked_by=marked_by,
        )
        uow.add(row)
        uow.flush()
        assert row.id is not None
        uow.add(AttendanceMark(attendance_id=row.id, present=present, at=now, by=marked_by))
    uow.flush()
