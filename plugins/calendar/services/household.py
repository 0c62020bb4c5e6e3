"""The household's Agenda: every child and activity over a week or a month, and actions for
several children and days at once (issue 17, point 3).

Each action goes through the same rules as the one-day actions (deadlines, capacity, closures,
``validate_*`` hooks): one call of :func:`.booking.reserve` or :func:`.absences.declare_absence`
per child, activity and day; each one's result is reported, as the semaine type does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from attrs import frozen

from famille_core.clock import FIRST_DAY, LAST_DAY, today_in_paris
from famille_core.entities import Activity, Actor, Child, ReservationState
from famille_core.errors import Issue, NotFound, ValidationFailed, raise_if
from famille_core.portal import Portal
from famille_core.services import acting
from famille_core.services.access import children_of, require_family
from famille_core.uow import UnitOfWork
from famille_plugins.calendar.services import absences, booking
from famille_plugins.calendar.services.calendar_days import days_between
from famille_plugins.calendar.services.context import DayState, State, day_state, load_days
from famille_plugins.calendar.services.deadlines import french_long_day
from famille_plugins.calendar.services.reasons import reason_by_code

MAX_CHOICES = 400
"""The most (child, activity, day) boxes one booking action takes (a month of a large family)."""
QUIET = (State.CLOSED, State.NOT_ENROLLED)
"""States that hold nothing to show or do for a child's day."""


@frozen(kw_only=True)
class ChildDay:
    """One child's day: each activity the child is enrolled in, and its state."""

    child: Child
    day: date
    states: tuple[tuple[Activity, DayState], ...]

    @property
    def open_states(self) -> tuple[tuple[Activity, DayState], ...]:
        """The activities that run that day for the child."""
        return tuple((a, s) for a, s in self.states if s.code not in QUIET)


@frozen(kw_only=True)
class HouseholdDay:
    """One day of the household's Agenda."""

    day: date
    children: tuple[ChildDay, ...]

    @property
    def is_open(self) -> bool:
        """True when at least one child has an activity that day."""
        return any(c.open_states for c in self.children)


@frozen(kw_only=True)
class HouseholdView:
    """Every child's days over ``[start, end]``."""

    children: list[Child]
    start: date
    end: date
    days: list[HouseholdDay]


def household_view(portal: Portal, uow: UnitOfWork, actor: Actor, start: date, end: date) -> HouseholdView:
    """The household's children and their days over ``[start, end]`` (clamped to the days the
    portal handles), in a constant number of queries."""
    family_id = require_family(actor)
    start, end = max(start, FIRST_DAY), min(end, LAST_DAY)
    children = children_of(uow, family_id)
    loaded = load_days(portal, uow, family_id, children, start, end)
    now = portal.clock.now()
    days = [
        HouseholdDay(
            day=day,
            children=tuple(
                ChildDay(
                    child=c,
                    day=day,
                    states=tuple((a, day_state(portal, loaded[c.id], a, day, now)) for a in loaded[c.id].activities),
                )
                for c in children
                if c.id is not None
            ),
        )
        for day in days_between(start, end)
    ]
    return HouseholdView(children=children, start=start, end=end, days=days)


@frozen(kw_only=True)
class Outcome:
    """The result of one child's day in a household action."""

    child: str
    day: date
    activity: str
    done: bool
    state: str
    """"réservé", "demande en cours", "absent (motif)" or "refusé"."""
    message: str = ""


def _names(uow: UnitOfWork, actor: Actor) -> dict[int, Child]:
    return {c.id: c for c in children_of(uow, require_family(actor)) if c.id is not None}


def reserve_many(
    portal: Portal, uow: UnitOfWork, actor: Actor, choices: Sequence[tuple[int, int, date]]
) -> list[Outcome]:
    """Book each ``(child_id, activity_id, day)`` chosen, each decided on its own by the rules
    of :func:`.booking.reserve`; the answer lists every one, booked or refused and why.

    :raises NotFound: a child is not the household's, an activity does not exist.
    :raises ValidationFailed: nothing chosen, too many boxes.
    """
    children = _names(uow, actor)
    unique = list(set(choices))
    if not unique:
        raise ValidationFailed.single("choices_required", "Cochez au moins un jour à réserver.", "choix")
    if len(unique) > MAX_CHOICES:
        raise ValidationFailed.single(
            "too_many_choices", f"Cochez au plus {MAX_CHOICES} cases à la fois.", "choix"
        )
    if any(child_id not in children for child_id, _, _ in unique):
        raise NotFound("Enfant introuvable.")
    order = {child_id: n for n, child_id in enumerate(children)}  # by first name, as shown
    unique.sort(key=lambda c: (c[2], order[c[0]], c[1]))
    outcomes = []
    with acting.one_notice(portal, uow, actor):  # an agent acting for the family: one message
        for child_id, activity_id, day in unique:
            activity = booking.activity_for(uow, activity_id)
            name = children[child_id].first_name
            try:
                reservation = booking.reserve(portal, uow, actor, child_id, activity_id, day)
            except ValidationFailed as refused:
                outcomes.append(
                    Outcome(child=name, day=day, activity=activity.label, done=False, state="refusé", message=refused.message)
                )
                continue
            words = "réservé" if reservation.state == ReservationState.ACCEPTED else "demande en cours"
            outcomes.append(Outcome(child=name, day=day, activity=activity.label, done=True, state=words))
    return outcomes


def declare_many(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_ids: Sequence[int],
    start: date,
    end: date,
    reason_code: str,
    comment: str = "",
) -> list[Outcome]:
    """Declare the chosen children absent from every activity on each day of ``[start, end]``
    where they have one, each child's day decided on its own by the rules of
    :func:`.absences.declare_absence`; the answer lists every such day, absent or refused and why.

    :raises NotFound: a child is not the household's.
    :raises ValidationFailed: no child, a wrong period or reason (nothing is written).
    """
    children = _names(uow, actor)
    chosen = sorted(set(child_ids), key=lambda i: (children[i].first_name, i) if i in children else ("", i))
    issues = []
    if not chosen:
        issues.append(Issue("children_required", "Cochez au moins un enfant.", "enfants"))
    if start < today_in_paris(portal.clock):
        issues.append(
            Issue("past_day", f"Le {french_long_day(start)} est passé : déclarez une absence à venir.", "start")
        )
    if end < start:
        issues.append(Issue("range_order", "La date de fin précède la date de début.", "end"))
    elif end - start > timedelta(days=absences.MAX_ABSENCE_DAYS):
        issues.append(Issue("range_too_long", "Une absence ne peut pas dépasser trois mois.", "end"))
    raise_if(issues)
    if any(i not in children for i in chosen):
        raise NotFound("Enfant introuvable.")
    reason_by_code(portal, reason_code, children[chosen[0]], None)  # an unknown reason refuses the whole form
    view = household_view(portal, uow, actor, start, end)
    outcomes = []
    with acting.one_notice(portal, uow, actor):  # an agent acting for the family: one message
        for household_day in view.days:
            for child_day in household_day.children:
                if child_day.child.id not in chosen or not child_day.open_states:
                    continue
                name, day = child_day.child.first_name, household_day.day
                try:
                    declared = absences.declare_absence(
                        portal, uow, actor, child_day.child.id, day, day, reason_code, comment
                    )
                except ValidationFailed as refused:
                    outcomes.append(Outcome(child=name, day=day, activity="", done=False, state="refusé", message=refused.message))
                    continue
                labels = ", ".join(a.label for a, _ in child_day.open_states if a.id in {d.activity_id for d in declared})
                outcomes.append(
                    Outcome(child=name, day=day, activity=labels, done=True, state=f"absent ({declared[0].reason_label})")
                )
    if not outcomes:
        raise ValidationFailed.single(
            "nothing_to_declare",
            f"Aucun jour d'activité du {french_long_day(start)} au {french_long_day(end)} : "
            "aucune absence n'a été enregistrée.",
            "start",
        )
    return outcomes
