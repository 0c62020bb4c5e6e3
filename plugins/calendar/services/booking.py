"""Reserve and cancel days, one by one or with a weekly pattern (semaine type)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Activity,
    Actor,
    BookingPolicy,
    Child,
    Reservation,
    ReservationState,
)
from famille_core.errors import Issue, NotFound, ValidationFailed, raise_if
from famille_core.portal import Portal
from famille_core.services import acting
from famille_core.services.access import child_for, owned, require_family
from famille_core.uow import In, UnitOfWork
from famille_plugins.calendar.services.calendar_days import days_between
from famille_plugins.calendar.services.context import ChildDays, State, day_state, load_days
from famille_plugins.calendar.services.deadlines import (
    cancellation_deadline,
    format_deadline,
    french_long_day,
    reservation_deadline,
)

MAX_PATTERN_DAYS = 366


def capacity_lock(activity_id: int, day: date) -> str:
    """The named lock serialising bookings of one activity on one day."""
    return f"calendar:capacity:{activity_id}:{day.isoformat()}"


def activity_for(uow: UnitOfWork, activity_id: int) -> Activity:
    """The active activity ``activity_id``, or :class:`NotFound`."""
    activity = uow.get(Activity, activity_id)
    if activity is None or not activity.active:
        raise NotFound("Activité introuvable.")
    return activity


def _notify(portal: Portal, uow: UnitOfWork, reservation: Reservation, change: str) -> None:
    uow.after_commit(
        lambda: portal.hook.on_reservation(portal=portal, reservation=reservation, change=change)
    )


def _refusals(
    portal: Portal, actor: Actor, days: ChildDays, activity: Activity, day: date, override_reason: str
) -> list[Issue]:
    """Why ``day`` cannot be booked (empty when it can), in French. A deadline passed is the one
    rule an agent acting for the family may override, with a reason (docs/agents.md)."""
    today = today_in_paris(portal.clock)
    when = french_long_day(day)
    if day < today:
        return [Issue("past_day", f"Le {when} est passé : ce jour ne peut plus être réservé.", "day")]
    state = day_state(portal, days, activity, day, portal.clock.now())
    child = days.child.first_name
    messages = {
        State.NOT_ENROLLED: (
            "not_enrolled",
            f"{child} n'est pas inscrit(e) à « {activity.label} » le {when} : "
            "l'inscription se fait auprès de la mairie.",
        ),
        State.CLOSED: (
            "closed_day",
            f"« {activity.label} » est fermé le {when} ({state.detail}).",
        ),
        State.ABSENT: (
            "absent",
            f"Une absence est déclarée le {when} pour « {activity.label} » : "
            "retirez-la avant de réserver.",
        ),
        State.BOOKED: ("already_booked", f"Le {when} est déjà réservé pour « {activity.label} »."),
        State.REQUESTED: (
            "already_booked",
            f"Une demande est déjà en cours le {when} pour « {activity.label} ».",
        ),
        State.LOCKED: (
            "deadline_passed",
            f"Le délai de réservation du {when} est dépassé (il fallait réserver avant le "
            f"{format_deadline(reservation_deadline(portal, activity, day))}).",
        ),
    }
    if state.code == State.LOCKED and acting.may_override_deadline(actor, activity.service):
        return acting.override_issues(override_reason)
    if state.code in messages:
        code, message = messages[state.code]
        return [Issue(code, message, "day")]
    return []


def _told(reservation: Reservation, activity: Activity, child: str, words: str) -> str:
    return f"{child}, « {activity.label} », {french_long_day(reservation.day)} : {words}."


def _book(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    days: ChildDays,
    activity: Activity,
    day: date,
    override_reason: str = "",
    *,
    locked: bool = False,
) -> Reservation:
    """Apply every rule, then store the reservation (raises :class:`ValidationFailed`).

    ``locked``: the day's capacity lock was taken before ``days`` was read, so its reservations
    are the current ones (nobody can book the day meanwhile) and are not read again.
    """
    raise_if(_refusals(portal, actor, days, activity, day, override_reason))
    late = actor.is_acting and portal.clock.now() > reservation_deadline(portal, activity, day)
    assert activity.id is not None and days.child.id is not None
    now = portal.clock.now()
    policy = BookingPolicy(activity.policy)
    state = ReservationState.ACCEPTED if policy is BookingPolicy.AUTO else ReservationState.REQUESTED
    candidate = Reservation(
        child_id=days.child.id,
        activity_id=activity.id,
        family_id=days.family_id,
        day=day,
        state=state,
        created_at=now,
        created_by=actor.user_id,
    )
    issues = [
        issue
        for answer in portal.hook.validate_reservation(portal=portal, reservation=candidate, actor=actor)
        for issue in answer
    ]
    raise_if(issues)
    # Serialise the capacity check and the write for this activity and day (advisory lock on
    # PostgreSQL): two parents can never both take the last place.
    if not locked:
        uow.lock(capacity_lock(activity.id, day))
    if activity.capacity is not None:
        taken = uow.count(
            Reservation,
            activity_id=activity.id,
            day=day,
            state=In([ReservationState.REQUESTED, ReservationState.ACCEPTED]),
        )
        if taken >= activity.capacity:
            raise ValidationFailed.single(
                "full",
                f"« {activity.label} » est complet le {french_long_day(day)} "
                f"({activity.capacity} places) : aucune place n'a été réservée.",
                "day",
            )
    if locked:
        existing = days.reservations.get((activity.id, day))
    else:
        existing = uow.first(Reservation, child_id=days.child.id, activity_id=activity.id, day=day)
    if existing is not None:
        if existing.is_active:  # booked meanwhile by the other household of the child
            raise ValidationFailed.single(
                "already_booked", f"Le {french_long_day(day)} est déjà réservé.", "day"
            )
        # One row per child, activity and day: a cancelled or refused day is asked again.
        existing.state = state
        existing.family_id = days.family_id
        existing.created_at = now
        existing.created_by = actor.user_id
        existing.decided_at = now if state is ReservationState.ACCEPTED else None
        existing.decided_by = None
        existing.refusal_reason = ""
        reservation = existing
    else:
        if state is ReservationState.ACCEPTED:
            candidate.decided_at = now
        uow.add(candidate)
        reservation = candidate
    uow.flush()
    days.reservations[(activity.id, day)] = reservation
    _notify(portal, uow, reservation, "accepted" if state is ReservationState.ACCEPTED else "requested")
    words = "réservé" if state is ReservationState.ACCEPTED else "demande de réservation envoyée"
    acting.record(
        portal, uow, actor, "reservation.booked", "reservation", reservation.id,
        told=_told(reservation, activity, days.child.first_name, words + (" (hors délai)" if late else "")),
        reason=override_reason.strip() if late else "",
    )  # fmt: skip
    return reservation


def _child_days(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    activity: Activity,
    start: date,
    end: date,
    *,
    lock_day: bool = False,
) -> ChildDays:
    """The child's days of ``activity`` over ``[start, end]``, once the actor may see the child.
    ``lock_day`` (a single day): the day's capacity lock is taken before they are read."""
    family_id = require_family(actor)
    child = child_for(uow, actor, child_id)
    assert child.id is not None and activity.id is not None
    if lock_day:
        uow.lock(capacity_lock(activity.id, start))
    return load_days(portal, uow, family_id, [child], start, end, activities=[activity])[child.id]


def reserve(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    activity_id: int,
    day: date,
    *,
    override_reason: str = "",
) -> Reservation:
    """Demande de réservation journalière: book ``day`` of ``activity_id`` for the child.

    Accepted at once for an activity with the ``auto`` policy, "demande en cours" otherwise.
    ``override_reason``: an agent acting for the family books past the deadline with it
    (required then; ignored for a parent, who is refused).

    :raises NotFound: the child is not the household's, or the activity does not exist.
    :raises ValidationFailed: a rule refuses the day (nothing is written).
    """
    activity = activity_for(uow, activity_id)
    # The lock first: what is read of the day (bookings of either household of the child) is
    # then current until the commit, and _book needs to read nothing again (docs/calendar.md).
    days = _child_days(portal, uow, actor, child_id, activity, day, day, lock_day=True)
    return _book(portal, uow, actor, days, activity, day, override_reason, locked=True)


def cancel(
    portal: Portal, uow: UnitOfWork, actor: Actor, reservation_id: int, *, override_reason: str = ""
) -> Reservation:
    """Annuler la réservation, until the cancellation deadline (past it: an agent acting for the
    family, with ``override_reason``).

    :raises NotFound: not the household's reservation.
    :raises ValidationFailed: already cancelled or refused, past day, deadline passed.
    """
    require_family(actor)
    reservation = owned(uow.get(Reservation, reservation_id, for_update=True), actor, "Réservation")
    activity = activity_for(uow, reservation.activity_id)
    when = french_long_day(reservation.day)
    if not reservation.is_active:
        raise ValidationFailed.single("not_booked", f"Le {when} n'est pas réservé.", "day")
    if reservation.day < today_in_paris(portal.clock):
        raise ValidationFailed.single("past_day", f"Le {when} est passé : il ne peut plus être annulé.", "day")
    deadline = cancellation_deadline(portal, activity, reservation.day)
    late = portal.clock.now() > deadline
    if late and acting.may_override_deadline(actor, activity.service):
        raise_if(acting.override_issues(override_reason))
    elif late:
        raise ValidationFailed.single(
            "cancellation_deadline_passed",
            f"Le délai d'annulation du {when} est dépassé (il fallait annuler avant le "
            f"{format_deadline(deadline)}).",
            "day",
        )
    reservation.state = ReservationState.CANCELLED
    reservation.decided_at = portal.clock.now()
    reservation.decided_by = actor.user_id
    uow.flush()
    _notify(portal, uow, reservation, "cancelled")
    acting.record(
        portal, uow, actor, "reservation.cancelled", "reservation", reservation.id,
        told=_told(reservation, activity, _first_name(uow, actor, reservation.child_id),
                   "réservation annulée" + (" (hors délai)" if late else "")),
        reason=override_reason.strip() if late else "",
    )  # fmt: skip
    return reservation


def _first_name(uow: UnitOfWork, actor: Actor, child_id: int) -> str:
    """The child's first name, for the notice to the family (read only when an agent acts)."""
    if not actor.is_acting:
        return ""
    child = uow.get(Child, child_id)
    return child.first_name if child is not None else ""


@frozen(kw_only=True)
class PatternOutcome:
    """One day of a weekly pattern: booked (or requested), or refused and why."""

    day: date
    booked: bool
    state: str
    message: str


def reserve_pattern(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    activity_id: int,
    weekdays: Iterable[int],
    start: date,
    end: date,
) -> list[PatternOutcome]:
    """Semaine type: book the chosen ``weekdays`` (0 = Monday) of ``[start, end]`` in one action.

    Each day is decided on its own; the answer lists every day, booked or refused and why.
    """
    chosen = sorted({int(d) for d in weekdays if 0 <= int(d) <= 6})
    issues = []
    if not chosen:
        issues.append(Issue("weekdays_required", "Cochez au moins un jour de la semaine.", "weekdays"))
    if end < start:
        issues.append(Issue("range_order", "La date de fin précède la date de début.", "end"))
    elif (end - start) > timedelta(days=MAX_PATTERN_DAYS):
        issues.append(Issue("range_too_long", "La période ne peut pas dépasser un an.", "end"))
    raise_if(issues)
    activity = activity_for(uow, activity_id)
    days = _child_days(portal, uow, actor, child_id, activity, start, end)
    outcomes = []
    with acting.one_notice(portal, uow, actor):  # an agent acting for the family: one message
        for day in days_between(start, end):
            if day.weekday() not in chosen:
                continue
            try:
                reservation = _book(portal, uow, actor, days, activity, day)
            except ValidationFailed as refused:
                outcomes.append(PatternOutcome(day=day, booked=False, state="refusé", message=refused.message))
                continue
            words = "réservé" if reservation.state == ReservationState.ACCEPTED else "demande en cours"
            outcomes.append(PatternOutcome(day=day, booked=True, state=words, message=""))
    return outcomes
