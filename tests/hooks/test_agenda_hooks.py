"""The agenda's hooks, each through the service that calls it: how answers combine, who wins,
and when notifications fire."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from famille_core import FixedClock, Issue, ValidationFailed, hookimpl
from famille_core.clock import PARIS
from famille_core.entities import Absence, AbsenceReason, Activity, Reservation
from famille_core.hooks.results import ClosedDay
from famille_plugins.calendar.services.absences import declare_absence
from famille_plugins.calendar.services.booking import reserve
from famille_plugins.calendar.services.calendar_days import closed_days_for
from famille_plugins.calendar.services.deadlines import cancellation_deadline, reservation_deadline
from famille_plugins.calendar.services.reasons import reasons_for
from tests.hooks.conftest import plugged
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, reservations_of


def _activity(cal: Demo, activity_id: int) -> Activity:
    with cal.portal.unit_of_work() as uow:
        activity = uow.get(Activity, activity_id)
        assert activity is not None
        return activity


class Veto:
    """Refuses every absence and reservation with its own issue."""

    def __init__(self, code: str) -> None:
        self.code = code

    @hookimpl
    def validate_absence(self, absence: Absence) -> list[Issue]:
        return [Issue(self.code, f"Refusé par {self.code}.", "start")]

    @hookimpl
    def validate_reservation(self, reservation: Reservation) -> list[Issue]:
        return [Issue(self.code, f"Refusé par {self.code}.", "day")]


class Silent:
    """Has nothing to say about any change."""

    @hookimpl
    def validate_absence(self) -> list[Issue]:
        return []

    @hookimpl
    def validate_reservation(self) -> list[Issue]:
        return []


def test_absence_reasons_collected_after_the_trylast_defaults_a_plugin_changes_a_code_in_place(
    cal: Demo,
) -> None:
    guide = [r.code for r in reasons_for(cal.portal)]
    assert len(guide) == 9 and guide[0] == "MEDICAL"

    class Town:
        @hookimpl
        def absence_reasons(self) -> list[AbsenceReason]:
            return [
                AbsenceReason(code="MEDICAL", label="CERTIFICAT MEDICAL", billable=False),
                AbsenceReason(code="RDV", label="RENDEZ-VOUS", billable=True),
            ]

    with plugged(cal.portal, Town()):
        reasons = reasons_for(cal.portal)
    assert [r.code for r in reasons] == [*guide, "RDV"]
    assert reasons[0].label == "CERTIFICAT MEDICAL"


def test_validate_absence_collected_every_plugins_issue_refuses_and_nothing_is_stored(
    cal: Demo,
) -> None:
    def declare() -> list[Absence]:
        with cal.portal.unit_of_work() as uow:
            made = declare_absence(
                cal.portal, uow, cal.parent, cal.lucas, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "MEDICAL"
            )
            uow.commit()
            return made

    with plugged(cal.portal, Veto("mairie"), Silent(), Veto("ecole")), pytest.raises(
        ValidationFailed
    ) as refused:
        declare()
    assert {i.code for i in refused.value.issues} == {"mairie", "ecole"}
    with cal.portal.unit_of_work() as uow:
        assert uow.find(Absence, child_id=cal.lucas, day=FIRST_OPEN_DAY) == []
    with plugged(cal.portal, Silent()):
        assert {a.day for a in declare()} == {FIRST_OPEN_DAY}


def test_validate_reservation_collected_every_plugins_issue_refuses_and_nothing_is_stored(
    cal: Demo,
) -> None:
    before = reservations_of(cal.portal, cal.emma)
    with (
        plugged(cal.portal, Veto("capacite"), Veto("sante")),
        cal.portal.unit_of_work() as uow,
        pytest.raises(ValidationFailed) as refused,
    ):
        reserve(cal.portal, uow, cal.parent, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    assert [i.code for i in refused.value.issues] == ["sante", "capacite"]  # last registered first
    assert reservations_of(cal.portal, cal.emma) == before


def test_reservation_deadline_first_answer_wins_over_the_trylast_rule(cal: Demo) -> None:
    cantine = _activity(cal, cal.cantine)
    rule = reservation_deadline(cal.portal, cantine, FIRST_OPEN_DAY)
    assert rule == datetime(2026, 11, 17, 10, 0, tzinfo=PARIS)  # the default J-2 at 10:00
    early = datetime(2026, 11, 1, 12, 0, tzinfo=PARIS)

    class Undecided:
        @hookimpl
        def reservation_deadline(self) -> None:
            return None

    class Strict:
        @hookimpl
        def reservation_deadline(self, day: date) -> datetime:
            return early

    with plugged(cal.portal, Strict(), Undecided()):
        assert reservation_deadline(cal.portal, cantine, FIRST_OPEN_DAY) == early
    with plugged(cal.portal, Undecided()):
        assert reservation_deadline(cal.portal, cantine, FIRST_OPEN_DAY) == rule


def test_cancellation_deadline_first_answer_wins_else_the_reservation_deadline(cal: Demo) -> None:
    cantine = _activity(cal, cal.cantine)
    assert cancellation_deadline(cal.portal, cantine, FIRST_OPEN_DAY) == reservation_deadline(
        cal.portal, cantine, FIRST_OPEN_DAY
    )
    late = datetime(2026, 11, 19, 8, 0, tzinfo=PARIS)

    class SameMorning:
        @hookimpl
        def cancellation_deadline(self, day: date) -> datetime:
            return late

    with plugged(cal.portal, SameMorning()):
        assert cancellation_deadline(cal.portal, cantine, FIRST_OPEN_DAY) == late


def test_closed_days_collected_any_plugin_closes_a_day_within_the_range(cal: Demo) -> None:
    cantine = _activity(cal, cal.cantine)
    start, end = date(2026, 11, 16), date(2026, 11, 30)

    class Strike:
        @hookimpl
        def closed_days(self, start: date, end: date) -> list[ClosedDay]:
            return [
                ClosedDay(day=date(2026, 11, 24), label="Grève du personnel"),
                ClosedDay(day=date(2027, 1, 4), label="Hors période"),
            ]

    class Works:
        @hookimpl
        def closed_days(self) -> list[ClosedDay]:
            return [ClosedDay(day=date(2026, 11, 26), label="Travaux")]

    with plugged(cal.portal, Strike(), Works()):
        closed = closed_days_for(cal.portal, [cantine], start, end)[cal.cantine]
    assert closed[date(2026, 11, 24)] == "Grève du personnel"
    assert closed[date(2026, 11, 26)] == "Travaux"
    assert date(2027, 1, 4) not in closed
    assert closed[date(2026, 11, 21)] == "Pas d'activité ce jour-là"  # a Saturday, the core's


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @hookimpl
    def on_reservation(self, reservation: Reservation, change: str) -> None:
        self.seen.append((change, reservation.day))

    @hookimpl
    def on_absence(self, absence: Absence, change: str) -> None:
        self.seen.append((change, absence.day))


def test_on_reservation_notified_after_commit_never_for_a_rolled_back_change(cal: Demo) -> None:
    recorder = Recorder()
    with plugged(cal.portal, recorder):
        with cal.portal.unit_of_work() as uow:
            reserve(cal.portal, uow, cal.parent, cal.emma, cal.cantine, FIRST_OPEN_DAY)
            assert recorder.seen == []  # not before the commit
            uow.rollback()
        assert recorder.seen == []
        with cal.portal.unit_of_work() as uow:
            reserve(cal.portal, uow, cal.parent, cal.emma, cal.cantine, FIRST_OPEN_DAY)
            uow.commit()
    assert recorder.seen in ([("requested", FIRST_OPEN_DAY)], [("accepted", FIRST_OPEN_DAY)])


def test_on_absence_notified_after_commit_never_for_a_rolled_back_change(
    cal: Demo, clock: FixedClock
) -> None:
    recorder = Recorder()
    day = FIRST_OPEN_DAY + timedelta(days=1)
    with plugged(cal.portal, recorder):
        with cal.portal.unit_of_work() as uow:
            declare_absence(cal.portal, uow, cal.parent, cal.lucas, day, day, "MEDICAL")
            uow.rollback()
        assert recorder.seen == []
        with cal.portal.unit_of_work() as uow:
            declare_absence(cal.portal, uow, cal.parent, cal.lucas, day, day, "MEDICAL")
            uow.commit()
    assert set(recorder.seen) == {("declared", day)}  # once per activity of the day
