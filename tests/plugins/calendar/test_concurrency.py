"""Capacity under simultaneous requests, on PostgreSQL: never one place too many."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from flask import Flask

from famille_core import Portal, hookimpl
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
from tests.conftest import csrf_token, login
from tests.core.test_event_feed import lock_waiters

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


class HoldWeeklyPattern:
    """Holds the semaine type (run in the thread named ``weekly``) before its second day, until
    the single-day booking has either finished or is waiting for a lock: the interleaving that
    deadlocked when the event feed's lock was held from the first event to the commit."""

    def __init__(self, portal_ready: threading.Event) -> None:
        self.first_day_booked = threading.Event()
        self.single_done = threading.Event()
        self.days_seen = 0
        self.portal_ready = portal_ready

    @hookimpl
    def validate_reservation(self, portal: Portal, reservation: Reservation, actor: Actor) -> list[object]:
        if threading.current_thread().name != "weekly":
            return []
        self.days_seen += 1
        if self.days_seen == 2:
            self.first_day_booked.set()
            deadline = time.monotonic() + 120
            while not self.single_done.wait(0.05) and not lock_waiters(portal):
                assert time.monotonic() < deadline
        return []


@pytest.fixture
def hold() -> HoldWeeklyPattern:
    return HoldWeeklyPattern(threading.Event())


@pytest.fixture
def extra_plugins(hold: HoldWeeklyPattern) -> list[object]:
    return [hold]


def test_semaine_type_racing_a_single_day_booking_gives_no_server_error(
    demo: Portal, app: Flask, hold: HoldWeeklyPattern
) -> None:
    """Emma's semaine type (Thursday 19 and Friday 20 November) while Lucas is booked for
    Friday 20 in another tab: both are saved, nobody gets a 500."""
    with demo.unit_of_work() as uow:
        children = {c.first_name: c.id for c in uow.find(Child)}
        cantine = uow.first(Activity, code="CANTINE")
        assert cantine is not None
    weekly_client, single_client = app.test_client(), app.test_client()
    for client in (weekly_client, single_client):
        assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    weekly_form = {
        "csrf_token": csrf_token(weekly_client, "/agenda/"),
        "child_id": str(children["Emma"]),
        "activity_id": str(cantine.id),
        "weekdays": ["3", "4"],
        "start": "2026-11-19",
        "end": "2026-11-20",
    }
    single_form = {
        "csrf_token": csrf_token(single_client, "/agenda/"),
        "child_id": str(children["Lucas"]),
        "activity_id": str(cantine.id),
        "day": "2026-11-20",
    }
    statuses: dict[str, int] = {}

    def weekly() -> None:
        statuses["weekly"] = weekly_client.post("/agenda/semaine-type", data=weekly_form).status_code

    def single() -> None:
        try:
            assert hold.first_day_booked.wait(120)
            statuses["single"] = single_client.post("/agenda/reserver", data=single_form).status_code
        finally:
            hold.single_done.set()

    threads = [threading.Thread(target=weekly, name="weekly"), threading.Thread(target=single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert statuses == {"weekly": 200, "single": 302}
    with demo.unit_of_work() as uow:
        booked = {(r.child_id, r.day) for r in uow.find(Reservation, activity_id=cantine.id)}
    assert {
        (children["Emma"], date(2026, 11, 19)),
        (children["Emma"], date(2026, 11, 20)),
        (children["Lucas"], date(2026, 11, 20)),
    } <= booked
