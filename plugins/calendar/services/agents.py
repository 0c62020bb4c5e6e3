"""The agents' side: the queue of requests, decisions, headcounts and the day's absences."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TypeVar

from attrs import frozen

from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    Child,
    Reservation,
    ReservationState,
    Role,
)
from famille_core.errors import NotFound, ValidationFailed
from famille_core.notify import notify_family
from famille_core.portal import Portal
from famille_core.services.access import require_agent
from famille_core.spreadsheet import csv_text
from famille_core.uow import In, UnitOfWork
from famille_plugins.calendar.services.deadlines import french_long_day

MAX_REFUSAL = 300
T = TypeVar("T")


@frozen(kw_only=True)
class RequestRow:
    """A pending request, with the names an agent needs."""

    reservation: Reservation
    child: Child
    activity: Activity


def _by_id(uow: UnitOfWork, cls: type[T], ids: set[int]) -> dict[int, T]:
    """Rows of ``cls`` by id, in one query."""
    return {row.id: row for row in uow.find(cls, id=In(ids))} if ids else {}  # type: ignore[attr-defined]


def _handles(actor: Actor, activity: Activity) -> bool:
    """An agent handles the requests of their own service; administrators (and agents without a
    service) handle them all."""
    return actor.role is Role.ADMIN or not actor.service or activity.service == actor.service


def _handled_activities(uow: UnitOfWork, actor: Actor) -> list[int]:
    require_agent(actor)
    return [a.id for a in uow.find(Activity) if _handles(actor, a)]  # type: ignore[misc]


def pending_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many requests wait for this agent's decision (the queue's length, same filter)."""
    return uow.count(
        Reservation, state=ReservationState.REQUESTED, activity_id=In(_handled_activities(uow, actor))
    )


def pending_requests(uow: UnitOfWork, actor: Actor, limit: int = 200) -> list[RequestRow]:
    """Requests waiting for a decision, oldest day first, for the agent's service (four queries)."""
    mine = _handled_activities(uow, actor)
    pending = uow.find(
        Reservation,
        state=ReservationState.REQUESTED,
        activity_id=In(mine),
        order_by=("day", "id"),
        limit=limit,
    )
    children = _by_id(uow, Child, {r.child_id for r in pending})
    activities = _by_id(uow, Activity, {r.activity_id for r in pending})
    return [
        RequestRow(reservation=r, child=children[r.child_id], activity=activities[r.activity_id])
        for r in pending
    ]


def decide(
    portal: Portal, uow: UnitOfWork, actor: Actor, reservation_id: int, accept: bool, reason: str = ""
) -> Reservation:
    """Accept or refuse a pending request; the family is told through its inbox.

    :raises ValidationFailed: already decided, or a refusal without a reason.
    """
    require_agent(actor)
    reservation = uow.get(Reservation, reservation_id, for_update=True)
    if reservation is None:
        raise NotFound("Demande introuvable.")
    activity = uow.get(Activity, reservation.activity_id)
    child = uow.get(Child, reservation.child_id)
    assert activity is not None and child is not None
    if not _handles(actor, activity):
        raise NotFound("Demande introuvable.")
    reason = reason.strip()
    if reservation.state != ReservationState.REQUESTED:
        raise ValidationFailed.single("already_decided", "Cette demande a déjà été traitée.")
    if not accept and not reason:
        raise ValidationFailed.single("reason_required", "Indiquez le motif du refus.", "reason")
    if len(reason) > MAX_REFUSAL:
        raise ValidationFailed.single("reason_too_long", f"Le motif dépasse {MAX_REFUSAL} caractères.", "reason")
    reservation.state = ReservationState.ACCEPTED if accept else ReservationState.REFUSED
    reservation.decided_at = portal.clock.now()
    reservation.decided_by = actor.user_id
    reservation.refusal_reason = "" if accept else reason
    when = french_long_day(reservation.day)
    if accept:
        subject = f"{activity.label} - inscription prise en compte"
        body = f"La demande pour {child.first_name} le {when} ({activity.label}) est acceptée."
    else:
        subject = f"{activity.label} - demande refusée"
        body = f"La demande pour {child.first_name} le {when} ({activity.label}) est refusée : {reason}"
    notify_family(portal, uow, reservation.family_id, subject, body, service=activity.service)
    uow.flush()
    change = "accepted" if accept else "refused"
    uow.after_commit(
        lambda: portal.hook.on_reservation(portal=portal, reservation=reservation, change=change)
    )
    return reservation


@frozen(kw_only=True)
class HeadcountRow:
    """Effectifs: one activity at one school on one day."""

    activity: str
    school: str
    booked: int
    requested: int
    absent: int

    @property
    def expected(self) -> int:
        """Children expected: booked minus declared absent."""
        return max(self.booked - self.absent, 0)


NO_SCHOOL = "École non renseignée"


def headcount(uow: UnitOfWork, actor: Actor, day: date) -> list[HeadcountRow]:
    """The day's headcount per activity and school, counted by the database (five queries, the
    bookings never loaded one by one: a city's day holds tens of thousands)."""
    require_agent(actor)
    counts = uow.count_by(
        Reservation,
        ("activity_id", "child.school", "state"),
        day=day,
        state=In([ReservationState.ACCEPTED, ReservationState.REQUESTED]),
    )
    booked: Counter[tuple[int, str]] = Counter()
    requested: Counter[tuple[int, str]] = Counter()
    for (activity_id, school, state), count in counts.items():
        key = (activity_id, school or NO_SCHOOL)
        if state == ReservationState.ACCEPTED:
            booked[key] += count
        else:
            requested[key] += count
    # Absences are few: the booked children among them are counted here.
    absences = uow.find(Absence, day=day)
    absent: Counter[tuple[int, str]] = Counter()
    if absences:
        absent_keys = {(a.child_id, a.activity_id) for a in absences}
        kept = uow.find(
            Reservation,
            day=day,
            state=ReservationState.ACCEPTED,
            child_id=In({child_id for child_id, _activity_id in absent_keys}),
        )
        kept = [r for r in kept if (r.child_id, r.activity_id) in absent_keys]
        children = _by_id(uow, Child, {r.child_id for r in kept})
        for r in kept:
            absent[(r.activity_id, getattr(children.get(r.child_id), "school", "") or NO_SCHOOL)] += 1
    activities = _by_id(uow, Activity, {activity_id for activity_id, _school in booked | requested})
    rows = []
    for key in sorted(set(booked) | set(requested), key=lambda k: (getattr(activities[k[0]], "label", ""), k[1])):
        rows.append(
            HeadcountRow(
                activity=getattr(activities[key[0]], "label", ""),
                school=key[1],
                booked=booked[key],
                requested=requested[key],
                absent=absent[key],
            )
        )
    return rows


def headcount_csv(rows: list[HeadcountRow], day: date) -> str:
    """The headcount as CSV (semicolon-separated, as French spreadsheets expect)."""
    return csv_text(
        ["Date", "Activité", "École", "Réservés", "Demandes en cours", "Absents", "Attendus"],
        (
            [day.isoformat(), row.activity, row.school, row.booked, row.requested, row.absent, row.expected]
            for row in rows
        ),
        delimiter=";",
    )


@frozen(kw_only=True)
class AbsenceRow:
    """An absence of the day, with names."""

    absence: Absence
    child: Child
    activity: Activity


def absences_of_day(uow: UnitOfWork, actor: Actor, day: date) -> list[AbsenceRow]:
    """The day's absences (three queries)."""
    require_agent(actor)
    absences = uow.find(Absence, day=day, order_by=("activity_id", "child_id"))
    children = _by_id(uow, Child, {a.child_id for a in absences})
    activities = _by_id(uow, Activity, {a.activity_id for a in absences})
    return [
        AbsenceRow(absence=a, child=children[a.child_id], activity=activities[a.activity_id])
        for a in absences
    ]
