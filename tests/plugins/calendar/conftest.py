"""Fixtures of the calendar tests: the demo household, its children and activities, actors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from attrs import frozen

from famille_core import Portal
from famille_core.entities import Activity, Actor, Child, Family, Reservation, User
from famille_core.errors import ValidationFailed

# The test clock is Monday 16 November 2026, 09:00 Paris. With the default rule (J-2 at 10:00),
# Thursday 19 November is the first day still open for booking.
FIRST_OPEN_DAY = date(2026, 11, 19)


@frozen
class Demo:
    """Identifiers of the demo data used by the tests."""

    portal: Portal
    family_id: int
    other_family_id: int
    emma: int
    lucas: int
    lea: int
    cantine: int
    soir: int
    matin: int
    mercredi: int
    parent: Actor
    other_parent: Actor
    agent: Actor


def _actor(portal: Portal, email: str) -> Actor:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email=email)
        assert user is not None
        return Actor.for_user(user)


@pytest.fixture
def cal(demo: Portal) -> Demo:
    """The demo portal and the identifiers the calendar tests use."""
    with demo.unit_of_work() as uow:
        children = {c.first_name: c.id for c in uow.find(Child)}
        activities = {a.code: a.id for a in uow.find(Activity)}
        families = {f.name: f.id for f in uow.find(Family)}
    return Demo(
        portal=demo,
        family_id=families["DUPONT"],
        other_family_id=families["MARTIN"],
        emma=children["Emma"],
        lucas=children["Lucas"],
        lea=children["Léa"],
        cantine=activities["CANTINE"],
        soir=activities["SOIR"],
        matin=activities["MATIN"],
        mercredi=activities["MERCREDI"],
        parent=_actor(demo, "parent@example.org"),
        other_parent=_actor(demo, "martin@example.org"),
        agent=_actor(demo, "agent@example.org"),
    )


def reservations_of(portal: Portal, child_id: int) -> list[tuple[date, int, str]]:
    """The child's reservations as stored: ``(day, activity_id, state)``."""
    with portal.unit_of_work() as uow:
        found = uow.find(Reservation, child_id=child_id, order_by=("day", "activity_id"))
        return [(r.day, r.activity_id, str(r.state)) for r in found]


def book(cal: Demo, child_id: int, activity_id: int, day: date, actor: Actor | None = None) -> str:
    """Book through the service and commit; returns the new state."""
    from famille_plugins.calendar.services.booking import reserve

    with cal.portal.unit_of_work() as uow:
        reservation = reserve(cal.portal, uow, actor or cal.parent, child_id, activity_id, day)
        uow.commit()
        return str(reservation.state)


def refusal(call: Callable[[], object]) -> tuple[str, str]:
    """The ``(code, message)`` of the first issue raised by ``call``."""
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.issues[0].code, caught.value.issues[0].message
