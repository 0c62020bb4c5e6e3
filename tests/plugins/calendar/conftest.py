"""Fixtures of the calendar tests: the demo household, its children and activities, actors."""

from __future__ import annotations

from datetime import date

import pytest
from attrs import frozen

from famille_core import Portal
from famille_core.entities import Activity, Actor, Child, Family, Reservation, User

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
