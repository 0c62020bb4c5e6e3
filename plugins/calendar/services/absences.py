"""Declare (and withdraw) absences, for one day or a range of days, with a reason."""

from __future__ import annotations

import re
from datetime import date, timedelta

from famille_core.clock import today_in_paris
from famille_core.entities import Absence, Actor
from famille_core.errors import Issue, ValidationFailed, raise_if
from famille_core.portal import Portal
from famille_core.services import acting
from famille_core.services.access import child_for, owned, require_family
from famille_core.uow import UnitOfWork
from famille_plugins.calendar.services.booking import activity_for
from famille_plugins.calendar.services.calendar_days import days_between
from famille_plugins.calendar.services.context import State, day_state, load_days
from famille_plugins.calendar.services.deadlines import french_long_day
from famille_plugins.calendar.services.reasons import reason_by_code

MAX_ABSENCE_DAYS = 92
MAX_COMMENT = 500
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _announce(portal: Portal, uow: UnitOfWork, absence: Absence, change: str) -> None:
    uow.after_commit(lambda: portal.hook.on_absence(portal=portal, absence=absence, change=change))


def _range_issues(portal: Portal, start: date, end: date, comment: str) -> list[Issue]:
    issues = []
    if start < today_in_paris(portal.clock):
        issues.append(
            Issue("past_day", f"Le {french_long_day(start)} est passé : déclarez une absence à venir.", "start")
        )
    if end < start:
        issues.append(Issue("range_order", "La date de fin précède la date de début.", "end"))
    elif end - start > timedelta(days=MAX_ABSENCE_DAYS):
        issues.append(Issue("range_too_long", "Une absence ne peut pas dépasser trois mois.", "end"))
    if len(comment) > MAX_COMMENT:
        issues.append(Issue("comment_too_long", f"Le commentaire dépasse {MAX_COMMENT} caractères.", "comment"))
    if CONTROL.search(comment):
        issues.append(Issue("control_characters", "Le commentaire contient des caractères invalides.", "comment"))
    return issues


def declare_absence(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    start: date,
    end: date,
    reason_code: str,
    comment: str = "",
    activity_id: int | None = None,
) -> list[Absence]:
    """Demande d'absence: the child is absent from ``activity_id`` (every enrolled activity when
    ``None``) on each open day of ``[start, end]``, for the reason ``reason_code``.

    For a single day, a closed or not-enrolled day is refused; in a range such days are skipped.
    The ``validate_absence`` hook may veto any day; then nothing is written.

    :raises NotFound: another household's child, an unknown activity.
    :raises ValidationFailed: past day, unknown reason, nothing to declare…
    """
    family_id = require_family(actor)
    child = child_for(uow, actor, child_id)
    comment = comment.strip()
    raise_if(_range_issues(portal, start, end, comment))
    activity = activity_for(uow, activity_id) if activity_id is not None else None
    reason = reason_by_code(portal, reason_code, child, activity)
    assert child.id is not None
    days = load_days(
        portal, uow, family_id, [child], start, end, None if activity is None else [activity.id or 0]
    )[child.id]
    if activity is not None and activity not in days.activities:
        raise ValidationFailed.single(
            "not_enrolled",
            f"{child.first_name} n'est pas inscrit(e) à « {activity.label} » sur cette période.",
            "activity",
        )
    now = portal.clock.now()
    single = start == end
    created: list[Absence] = []
    issues: list[Issue] = []
    for day in days_between(start, end):
        for current in [activity] if activity is not None else days.activities:
            assert current is not None and current.id is not None
            state = day_state(portal, days, current, day, now)
            if state.code == State.ABSENT:
                if single:
                    issues.append(Issue("already_absent", f"Une absence est déjà déclarée le {french_long_day(day)}.", "start"))
                continue
            if state.code in (State.CLOSED, State.NOT_ENROLLED):
                if single and activity is not None:
                    why = state.detail or "non inscrit"
                    issues.append(
                        Issue(
                            "closed_day" if state.code == State.CLOSED else "not_enrolled",
                            f"Pas d'absence à déclarer le {french_long_day(day)} pour « {current.label} » ({why}).",
                            "start",
                        )
                    )
                continue
            absence = Absence(
                child_id=child.id,
                activity_id=current.id,
                family_id=family_id,
                day=day,
                reason_code=reason.code,
                reason_label=reason.label,
                billable=reason.billable,
                comment=comment,
                created_at=now,
                created_by=actor.user_id,
            )
            for answer in portal.hook.validate_absence(portal=portal, absence=absence, actor=actor):
                issues.extend(answer)
            created.append(absence)
    raise_if(issues)
    if not created:
        raise ValidationFailed.single(
            "nothing_to_declare",
            "Aucun jour d'activité dans cette période : aucune absence n'a été enregistrée.",
            "start",
        )
    for absence in created:
        uow.add(absence)
    uow.flush()
    for absence in created:
        _announce(portal, uow, absence, "declared")
        acting.record(portal, uow, actor, "absence.declared", "absence", absence.id)
    first, last = created[0].day, created[-1].day
    when = f"le {french_long_day(first)}" if first == last else f"du {french_long_day(first)} au {french_long_day(last)}"
    acting.tell(portal, uow, actor, f"{child.first_name} : absence déclarée {when} ({reason.label}).")
    return created


def withdraw_absence(portal: Portal, uow: UnitOfWork, actor: Actor, absence_id: int) -> Absence:
    """Withdraw a declared absence of a day still to come.

    :raises NotFound: not the household's absence.
    :raises ValidationFailed: the day is past.
    """
    require_family(actor)
    absence = owned(uow.get(Absence, absence_id), actor, "Absence")
    if absence.day < today_in_paris(portal.clock):
        raise ValidationFailed.single(
            "past_day", f"Le {french_long_day(absence.day)} est passé : l'absence reste enregistrée.", "day"
        )
    uow.delete(absence)
    uow.flush()
    _announce(portal, uow, absence, "withdrawn")
    acting.record(portal, uow, actor, "absence.withdrawn", "absence", absence.id,
                  told=f"Absence du {french_long_day(absence.day)} retirée.")
    return absence
