"""Closed days: public holidays, school holidays of the zone, municipal closures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from famille_core import Portal
from famille_plugins.calendar.services.booking import reserve
from tests.plugins.calendar.conftest import Demo, refusal


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["collectivity"]["closures"] = ["2026-12-04"]
    return {**settings_data, "plugins": {"calendar": {"closures": ["2026-11-27/2026-11-27"]}}}


def _refused(cal: Demo, day: date) -> tuple[str, str]:
    with cal.portal.unit_of_work() as uow:
        return refusal(lambda: reserve(cal.portal, uow, cal.parent, cal.emma, cal.cantine, day))


def test_public_holiday_is_closed(cal: Demo) -> None:
    code, message = _refused(cal, date(2026, 12, 25))  # Christmas, a Friday
    assert code == "closed_day"
    assert "Jour férié : Noël" in message


def test_school_holiday_of_the_zone_is_closed(cal: Demo) -> None:
    # Zone A (the test configuration): Christmas holidays cover Monday 21 December 2026.
    code, message = _refused(cal, date(2026, 12, 21))
    assert code == "closed_day"
    assert "Vacances de Noël" in message


def test_public_holiday_label_comes_from_the_holidays_package(cal: Demo) -> None:
    # Monday 5 April 2027 (Easter Monday) is a public holiday; it falls in no school holiday of zone A.
    with cal.portal.unit_of_work() as uow:
        from famille_core.entities import Enrollment

        enrolment = uow.first(Enrollment, child_id=cal.emma, activity_id=cal.cantine)
        assert enrolment is not None
        enrolment.end_date = date(2027, 7, 5)
        uow.commit()
    from famille_plugins.calendar.services.calendar_days import builtin_closed_days
    from famille_plugins.calendar.settings import settings_of

    days = {c.day: c.label for c in builtin_closed_days(cal.portal, settings_of(cal.portal), date(2027, 5, 1), date(2027, 5, 31))}
    assert days[date(2027, 5, 1)] == "Jour férié : Fête du Travail"
    assert days[date(2027, 5, 6)] == "Jour férié : Ascension"


def test_municipal_closures_from_configuration(cal: Demo) -> None:
    code, message = _refused(cal, date(2026, 12, 4))  # [collectivity] closures
    assert (code, "Fermeture municipale" in message) == ("closed_day", True)
    code, message = _refused(cal, date(2026, 11, 27))  # [plugins.calendar] closures
    assert (code, "Fermeture municipale" in message) == ("closed_day", True)


def test_zone_changes_school_holidays(portal: Portal) -> None:
    from famille_plugins.calendar.services.calendar_days import school_holidays

    # Winter holidays differ by zone: the three zones do not share the same February days.
    zones = {zone: {d for d in school_holidays(2027, zone) if d.month == 2} for zone in "ABC"}
    assert zones["A"] != zones["B"] != zones["C"]


def test_closed_days_hook_adds_days_without_core_change(cal: Demo) -> None:
    from famille_core import hookimpl
    from famille_core.hooks.results import ClosedDay

    class Strike:
        @hookimpl
        def closed_days(self, portal, activity, start, end):  # type: ignore[no-untyped-def]
            return [ClosedDay(day=date(2026, 11, 26), label="Grève du personnel")]

    cal.portal.pm.register(Strike())
    code, message = _refused(cal, date(2026, 11, 26))
    assert code == "closed_day" and "Grève du personnel" in message


def test_france_loaded_alone_gives_the_packages_own_holidays() -> None:
    """France's module of ``holidays`` is loaded without the package's 200-odd other countries
    (a web worker's memory), and answers as ``holidays.France`` does, labels and all."""
    import holidays

    from famille_plugins.calendar.services.calendar_days import public_holidays, school_holidays
    from famille_plugins.calendar.services.holiday_tables import france

    assert holidays.France.get_entity() is france()  # one class, whoever loads it first
    for year in (2026, 2027):
        assert public_holidays(year, "57") == dict(holidays.France(years=year, subdiv="57", language="fr"))
        assert school_holidays(year, "B") == dict(
            holidays.France(years=year, subdiv="Zone B", categories=("school",), language="fr")
        )
    assert public_holidays(2026, "57")[date(2026, 12, 26)] == "Saint-Étienne"  # Alsace-Moselle


def test_holidays_are_computed_outside_the_web_process_and_inside_when_it_cannot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tables come from a process of their own (a web worker does not import ``holidays``:
    docs/deployment.md, "Memory of a worker"); should that process fail, from this one, the same."""
    from famille_plugins.calendar.services import calendar_days

    monkeypatch.setattr(calendar_days, "_public", {})
    monkeypatch.setattr(calendar_days, "_school", {})
    run = calendar_days.subprocess.run
    processes: list[object] = []

    def counted(*args: object, **kwargs: object) -> object:
        processes.append(args[0])
        return run(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(calendar_days.subprocess, "run", counted)
    outside = (calendar_days.public_holidays(2031, "57"), calendar_days.school_holidays(2031, "C"))
    assert calendar_days.public_holidays(2030, "57")  # the years around came with it
    assert len(processes) == 1  # one process gave them all
    assert outside[0][date(2031, 12, 26)] == "Saint-Étienne"

    def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError("no exec here")

    monkeypatch.setattr(calendar_days, "_public", {})
    monkeypatch.setattr(calendar_days, "_school", {})
    monkeypatch.setattr(calendar_days.subprocess, "run", refused)
    inside = (calendar_days.public_holidays(2031, "57"), calendar_days.school_holidays(2031, "C"))
    assert inside == outside
