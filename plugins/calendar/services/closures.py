"""Closures grouped for the Agenda: "Vacances de Noël, du 21/12 au 01/01" once, instead of a
closed mark on every day (issue 17, point 2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from attrs import frozen

from famille_core.entities import Activity
from famille_core.portal import Portal
from famille_plugins.calendar.services.calendar_days import (
    NOT_A_WEEKDAY,
    closed_days_for,
    days_between,
)

MARGIN = timedelta(days=45)
"""How far around the shown period closures are read, so a run is shown whole."""


@frozen(kw_only=True)
class Closure:
    """Consecutive days on which every activity is closed, with their main reason."""

    label: str
    first: date
    last: date

    @property
    def words(self) -> str:
        """``"Vacances de Noël, du 19/12 au 03/01"`` or ``"Jour férié : 11 novembre, le 11/11"``."""
        if self.first == self.last:
            return f"{self.label}, le {self.first:%d/%m}"
        return f"{self.label}, du {self.first:%d/%m} au {self.last:%d/%m}"


def grouped_closures(portal: Portal, activities: Iterable[Activity], start: date, end: date) -> list[Closure]:
    """The closures that touch ``[start, end]``: runs of consecutive days on which every one of
    ``activities`` is closed, from the first to the last day closed for a reason other than the
    weekly rhythm (a holiday, a closure; weekends inside a run belong to it), named after their
    most frequent reason."""
    activities = [a for a in activities if a.id is not None]
    if not activities:
        return []
    closed = closed_days_for(portal, activities, start - MARGIN, end + MARGIN)
    maps = [closed[a.id or 0] for a in activities]
    everywhere = set(maps[0]).intersection(*maps[1:])  # the days every activity is closed
    runs: list[list[tuple[date, str | None]]] = []
    current: list[tuple[date, str | None]] = []
    for day in days_between(start - MARGIN, end + MARGIN):
        if day not in everywhere:
            if current:
                runs.append(current)
            current = []
            continue
        reason = next((label for m in maps if (label := m[day]) and label != NOT_A_WEEKDAY), None)
        current.append((day, reason))
    if current:
        runs.append(current)
    found = []
    for run in runs:
        named = [(day, label) for day, label in run if label is not None]
        if not named:
            continue
        first, last = named[0][0], named[-1][0]
        if last < start or first > end:
            continue
        label = Counter(label for _, label in named).most_common(1)[0][0]
        assert label is not None
        found.append(Closure(label=label, first=first, last=last))
    return found
