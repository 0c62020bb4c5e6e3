"""Closed days: when an activity does not run.

A day is closed for an activity when it is not one of its weekdays, a French public holiday
(``holidays`` package, with the collectivity's département for Alsace-Moselle), a school
holiday of the collectivity's zone (``holidays`` package, plus configured extra days) or a
municipal closure. The built-in implementation is the ``closed_days`` hook of this plugin;
other plugins add their own days through the same hook.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from famille_core.hooks.results import ClosedDay

if TYPE_CHECKING:
    from famille_core.entities import Activity
    from famille_core.portal import Portal
    from famille_plugins.calendar.settings import CalendarSettings


NOT_A_WEEKDAY = "Pas d'activité ce jour-là"
"""The reason of a day that is not one of the activity's weekdays."""


def days_between(start: date, end: date) -> Iterator[date]:
    """Every day of ``[start, end]``."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def expand_ranges(values: Iterable[str]) -> Iterator[date]:
    """Days of ISO dates and ``start/end`` ranges (validated by the settings)."""
    for value in values:
        first, _, last = value.partition("/")
        start = date.fromisoformat(first)
        yield from days_between(start, date.fromisoformat(last) if last else start)


_TABLES_SCRIPT = Path(__file__).with_name("holiday_tables.py")
_tables_lock = threading.Lock()
_public: dict[tuple[int, str | None], dict[date, str]] = {}
_school: dict[tuple[int, str], dict[date, str]] = {}
YEARS_AROUND = 1
"""Each computation also gives the years just before and after the one asked (an Agenda across
the new year, a deadline of early January)."""

log = logging.getLogger(__name__)


def _holiday_tables(year: int, subdivision: str | None, zone: str | None) -> None:
    """Fill the process's tables for the years around ``year``: the public holidays of
    ``subdivision`` and the school holidays of every zone (``zone``, if given, among them).

    The ``holidays`` package is not imported by the web process (about 4.5 MB per worker:
    docs/deployment.md, "Memory of a worker"): ``holiday_tables.py`` computes the tables in a
    Python process of its own, once per worker and few years. Should that process fail (no
    ``fork``/``exec`` allowed, a timeout) or the process not be run by a Python interpreter
    (uWSGI, mod_wsgi: ``sys.executable`` is then the server), the tables are computed here.
    """
    request = {
        "years": list(range(year - YEARS_AROUND, year + YEARS_AROUND + 1)),
        "subdivisions": [subdivision],
        "zones": sorted({"A", "B", "C", *([zone] if zone else [])}),
    }
    try:
        if not Path(sys.executable).name.startswith("python"):
            raise OSError("not run by a Python interpreter")
        done = subprocess.run(  # noqa: S603 (our interpreter and our own file, no input in argv)
            [sys.executable, str(_TABLES_SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        answer = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        log.warning("holiday tables computed in process: %s", type(error).__name__)
        from famille_plugins.calendar.services import holiday_tables

        answer = holiday_tables.tables(request)
    for kind, target in (("public", _public), ("school", _school)):
        for key, days in answer[kind].items():
            key_year, _, name = key.partition(" ")
            target[(int(key_year), name or None)] = {  # type: ignore[index]
                date.fromisoformat(day): label for day, label in days.items()
            }


def _table(tables: dict[Any, dict[date, str]], key: tuple[int, str | None], subdivision: str | None, zone: str | None) -> dict[date, str]:
    """``tables[key]``, computed on the first call (once, whatever the threads asking)."""
    found = tables.get(key)
    if found is None:
        with _tables_lock:
            if key not in tables:
                _holiday_tables(key[0], subdivision, zone)
            found = tables[key]
    return found


def public_holidays(year: int, subdivision: str | None) -> dict[date, str]:
    """French public holidays (jours fériés) of ``year``, labels in French."""
    return _table(_public, (year, subdivision), subdivision, None)


def school_holidays(year: int, zone: str) -> dict[date, str]:
    """School holidays (vacances scolaires) of zone ``A``, ``B`` or ``C`` in ``year``."""
    return _table(_school, (year, zone), None, zone)


def is_public_holiday(portal: Portal, day: date) -> bool:
    """True on a French public holiday (used for working-day deadlines)."""
    return day in public_holidays(day.year, portal.settings.collectivity.holidays_subdivision)


def builtin_closed_days(
    portal: Portal, settings: CalendarSettings, start: date, end: date
) -> list[ClosedDay]:
    """Public holidays, school holidays and municipal closures in ``[start, end]``."""
    collectivity = portal.settings.collectivity
    return list(
        _builtin_closed_days(
            collectivity.holidays_subdivision,
            collectivity.school_zone if settings.use_school_holidays else None,
            tuple(settings.school_holidays),
            (*collectivity.closures, *settings.closures),
            start,
            end,
        )
    )


@functools.lru_cache(maxsize=256)
def _builtin_closed_days(
    subdivision: str | None,
    school_zone: str | None,
    extra_school_days: tuple[str, ...],
    closures: tuple[str, ...],
    start: date,
    end: date,
) -> tuple[ClosedDay, ...]:
    """:func:`builtin_closed_days` from the settings it reads, kept per process: the same
    configuration and days always give the same days (``school_zone`` ``None``: no school
    holidays)."""
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, label in public_holidays(year, subdivision).items():
            found.setdefault(day, f"Jour férié : {label}")
        if school_zone is not None:
            for day, label in school_holidays(year, school_zone).items():
                found.setdefault(day, label)
    if school_zone is not None:
        for day in expand_ranges(extra_school_days):
            found.setdefault(day, "Vacances scolaires")
    for day in expand_ranges(closures):
        found.setdefault(day, "Fermeture municipale")
    return tuple(ClosedDay(day=d, label=label) for d, label in sorted(found.items()) if start <= d <= end)


@functools.lru_cache(maxsize=1024)
def _not_running(weekdays: frozenset[int], start: date, end: date) -> tuple[date, ...]:
    """The days of ``[start, end]`` that are not one of ``weekdays``, kept per process (the
    Agenda asks for the same months again and again: docs/deployment.md, "Fast pages")."""
    return tuple(day for day in days_between(start, end) if day.weekday() not in weekdays)


def closed_days_for(
    portal: Portal, activities: Iterable[Activity], start: date, end: date
) -> dict[int, dict[date, str]]:
    """For each activity id, the closed days of ``[start, end]`` with their French reason
    (not one of its weekdays, or listed by a ``closed_days`` hook)."""
    result: dict[int, dict[date, str]] = {}
    for activity in activities:
        assert activity.id is not None
        closed = dict.fromkeys(_not_running(activity.weekday_set, start, end), NOT_A_WEEKDAY)
        for answer in portal.hook.closed_days(portal=portal, activity=activity, start=start, end=end):
            for closed_day in answer:
                if start <= closed_day.day <= end:
                    closed.setdefault(closed_day.day, closed_day.label)
        result[activity.id] = closed
    return result
