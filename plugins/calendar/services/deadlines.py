"""Reservation and cancellation deadlines (délais), computed in Europe/Paris.

Each deadline is built as a *wall-clock* time in Paris (``zoneinfo``), never by subtracting hours
from an instant, so "J-2 at 10:00" stays 10:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from famille_core import french
from famille_core.clock import PARIS, paris_datetime
from famille_plugins.calendar.services.calendar_days import is_public_holiday
from famille_plugins.calendar.settings import settings_of

if TYPE_CHECKING:
    from famille_core.entities import Activity
    from famille_core.portal import Portal
    from famille_plugins.calendar.settings import DeadlineRule


def deadline_from_rule(portal: Portal, rule: DeadlineRule, day: date) -> datetime:
    """The last instant (aware, Paris) at which ``day`` may still be changed under ``rule``."""
    hour, minute = rule.hour_minute
    if rule.kind == "previous_week":
        monday = day - timedelta(days=day.weekday())
        return paris_datetime(monday - timedelta(days=7 - rule.weekday), hour, minute)
    target = day
    remaining = rule.days
    while remaining > 0:
        target -= timedelta(days=1)
        if rule.working_days_only and (target.weekday() >= 5 or is_public_holiday(portal, target)):
            continue
        remaining -= 1
    return paris_datetime(target, hour, minute)


def reservation_deadline(portal: Portal, activity: Activity, day: date) -> datetime:
    """The reservation deadline of ``day`` (``reservation_deadline`` hook, first answer wins)."""
    answer: datetime | None = portal.hook.reservation_deadline(
        portal=portal, activity=activity, day=day
    )
    if answer is None:  # the plugin's own default answers unless disabled by a wrapper
        answer = deadline_from_rule(portal, settings_of(portal).deadline_for(activity.code), day)
    return answer


def cancellation_deadline(portal: Portal, activity: Activity, day: date) -> datetime:
    """The cancellation deadline; the reservation deadline when no hook answers."""
    answer: datetime | None = portal.hook.cancellation_deadline(
        portal=portal, activity=activity, day=day
    )
    return answer if answer is not None else reservation_deadline(portal, activity, day)


def format_deadline(instant: datetime) -> str:
    """``"samedi 28 mars 2026 à 10:00"`` (Paris time) for messages."""
    local = instant.astimezone(PARIS)
    return f"{french_long_day(local.date())} à {local:%H:%M}"


french_long_day = french.long_day
"""``"lundi 30 mars 2026"``."""

french_month = french.month_year
"""``"novembre 2026"``."""
