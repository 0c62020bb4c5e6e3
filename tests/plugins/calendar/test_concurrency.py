"""Capacity under simultaneous requests, on PostgreSQL: never one place too many."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from famille_core import Portal
from famille_core.entities import (
    Activity,
    Actor,
    Child,
    Enrollment,
    Family,
    FamilyChild,
    Reservation,
    Role,
)
from famille_core.errors import Conflict, ValidationFailed
from famille_plugins.calendar.services.booking import reserve

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 19)  # open: the test clock is Monday 16 November 2026


def _setup(portal: Portal, children: int, capacity: int) -> tuple[int, int, list[int]]:
    with portal.unit_of_work() as uow:
        family = Family(family_number="000000000050", name="NOMBREUSE")
        activity = Activity(code="CANTINE", label="Cantine", weekdays="0,1,3,4", capacity=capacity)
        uow.add(family)
        uow.add(activity)
        uow.flush()
        kids = [Child(first_name=f"Enfant{n}", last_name="NOMBREUSE", school="École A") for n in range(children)]
        for kid in kids:
            uow.add(kid)
        uow.flush()
        for kid in kids:
            assert kid.id is not None and family.id is not None and activity.id is not None
            uow.add(FamilyChild(family_id=family.id, child_id=kid.id))
            uow.add(
                Enrollment(
                    child_id=kid.id, activity_id=activity.id, family_id=family.id,
                    start_date=date(2026, 9, 1), end_date=date(2027, 7, 5),
                )
            )
        uow.commit()
        return family.id, activity.id, [k.id for k in kids if k.id is not None]  # type: ignore[return-value]


def test_fifty_simultaneous_requests_for_twenty_places_give_exactly_twenty(portal: Portal) -> None:
    family_id, activity_id, kids = _setup(portal, 50, 20)
    actor = Actor(user_id=None, role=Role.PARENT, family_id=family_id)
    barrier = threading.Barrier(len(kids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(child_id: int) -> None:
        barrier.wait()
        try:
            with portal.unit_of_work() as uow:
                reserve(portal, uow, actor, child_id, activity_id, DAY)
                uow.commit()
            result = "booked"
        except ValidationFailed as refused:
            result = refused.issues[0].code
        except Conflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(kid,)) for kid in kids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(set(outcomes)) == ["booked", "full"]
    assert outcomes.count("booked") == 20
    with portal.unit_of_work() as uow:
        assert uow.count(Reservation, activity_id=activity_id, day=DAY) == 20


def test_same_child_twice_at_once_gives_one_reservation(portal: Portal) -> None:
    family_id, activity_id, kids = _setup(portal, 1, 20)
    actor = Actor(user_id=None, role=Role.PARENT, family_id=family_id)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with portal.unit_of_work() as uow:
                reserve(portal, uow, actor, kids[0], activity_id, DAY)
                uow.commit()
            outcomes.append("booked")
        except (ValidationFailed, Conflict):
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("booked") == 1
    with portal.unit_of_work() as uow:
        assert uow.count(Reservation, child_id=kids[0]) == 1
