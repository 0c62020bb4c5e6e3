"""Deadlines in Europe/Paris, across the daylight-saving changes of March and October."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famille_core import Portal
from famille_core.entities import Activity
from famille_plugins.calendar.services.deadlines import (
    cancellation_deadline,
    deadline_from_rule,
    reservation_deadline,
)
from famille_plugins.calendar.settings import DeadlineRule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_j_minus_2_at_10_before_the_march_change(portal: Portal) -> None:
    # Monday 30 March 2026; clocks went forward on Sunday 29 March. J-2 = Saturday 28 March,
    # still winter time (UTC+1): 10:00 Paris = 09:00 UTC.
    deadline = deadline_from_rule(portal, DeadlineRule(days=2, time="10:00"), date(2026, 3, 30))
    assert deadline.astimezone(UTC) == utc(2026, 3, 28, 9, 0)


def test_j_minus_1_at_10_after_the_march_change(portal: Portal) -> None:
    # Monday 30 March 2026, J-1 = Sunday 29 March, summer time (UTC+2): 08:00 UTC.
    deadline = deadline_from_rule(portal, DeadlineRule(days=1, time="10:00"), date(2026, 3, 30))
    assert deadline.astimezone(UTC) == utc(2026, 3, 29, 8, 0)


def test_october_change(portal: Portal) -> None:
    # Clocks go back on Sunday 25 October 2026. Tuesday 27 October, J-3 = Saturday 24 (UTC+2),
    # J-2 = Sunday 25 (UTC+1).
    day = date(2026, 10, 27)
    assert deadline_from_rule(portal, DeadlineRule(days=3, time="10:00"), day).astimezone(UTC) == utc(2026, 10, 24, 8, 0)
    assert deadline_from_rule(portal, DeadlineRule(days=2, time="10:00"), day).astimezone(UTC) == utc(2026, 10, 25, 9, 0)


def test_working_days_only_skips_weekends_and_public_holidays(portal: Portal) -> None:
    # Thursday 12 November 2026: J-2 working days skips Wednesday 11 November (Armistice)
    # → Tuesday 10 then Monday 9... J-2 = Monday 9 November.
    rule = DeadlineRule(days=2, time="12:00", working_days_only=True)
    assert deadline_from_rule(portal, rule, date(2026, 11, 12)).date() == date(2026, 11, 9)
    # Monday 23 November: J-2 working days = Thursday 19 November (weekend skipped).
    assert deadline_from_rule(portal, rule, date(2026, 11, 23)).date() == date(2026, 11, 19)


def test_weekday_of_the_previous_week(portal: Portal) -> None:
    rule = DeadlineRule(kind="previous_week", weekday=3, time="12:00")
    for day in (date(2026, 11, 23), date(2026, 11, 27)):  # the whole week of 23 November
        deadline = deadline_from_rule(portal, rule, day)
        assert (deadline.date(), deadline.hour, deadline.minute) == (date(2026, 11, 19), 12, 0)
    # Across the October change: week of Monday 26 October 2026 → Thursday 22 October 12:00 (UTC+2).
    assert deadline_from_rule(portal, rule, date(2026, 10, 28)).astimezone(UTC) == utc(2026, 10, 22, 10, 0)


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings_data,
        "plugins": {
            "calendar": {
                "deadline": {"days": 2, "time": "10:00"},
                "cancellation": {"days": 1, "time": "18:00"},
                "activity_deadlines": {"MERCREDI": {"kind": "previous_week", "weekday": 3, "time": "12:00"}},
            }
        },
    }


def test_configured_rules_per_activity_and_separate_cancellation(portal: Portal) -> None:
    day = date(2026, 11, 26)
    cantine = Activity(id=1, code="CANTINE", label="Cantine")
    assert reservation_deadline(portal, cantine, day) == deadline_from_rule(portal, DeadlineRule(), day)
    cancel = cancellation_deadline(portal, cantine, day)
    assert (cancel.date(), cancel.hour) == (date(2026, 11, 25), 18)
    mercredi = Activity(id=2, code="MERCREDI", label="Mercredi")
    deadline = reservation_deadline(portal, mercredi, date(2026, 11, 25))
    assert (deadline.date(), deadline.hour) == (date(2026, 11, 19), 12)


def test_a_locked_day_after_the_march_change_is_refused_then_open_before(demo: Portal) -> None:
    """End to end: the clock one minute before / after the deadline across the change."""
    from famille_core.clock import PARIS
    from tests.plugins.calendar.conftest import refusal

    with demo.unit_of_work() as uow:
        from famille_core.entities import Child

        emma = uow.first(Child, first_name="Emma")
        cantine = uow.first(Activity, code="CANTINE")
        assert emma is not None and cantine is not None
        emma_id, cantine_id = emma.id, cantine.id
    from famille_core.entities import Enrollment

    with demo.unit_of_work() as uow:
        enrolment = uow.first(Enrollment, child_id=emma_id, activity_id=cantine_id)
        assert enrolment is not None
        enrolment.start_date = date(2026, 1, 1)
        uow.commit()
    from famille_core.entities import Actor, User
    from famille_plugins.calendar.services.booking import reserve

    with demo.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        actor = Actor.for_user(user)
    demo.clock.instant = datetime(2026, 3, 28, 10, 1, tzinfo=PARIS)  # type: ignore[attr-defined]
    with demo.unit_of_work() as uow:
        code, _ = refusal(lambda: reserve(demo, uow, actor, emma_id, cantine_id, date(2026, 3, 30)))
    assert code == "deadline_passed"
    demo.clock.instant = datetime(2026, 3, 28, 9, 59, tzinfo=PARIS)  # type: ignore[attr-defined]
    with demo.unit_of_work() as uow:
        assert str(reserve(demo, uow, actor, emma_id, cantine_id, date(2026, 3, 30)).state) == "accepted"


@given(
    day=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=10),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.sampled_from([0, 15, 30, 59]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_deadline_is_always_the_wall_clock_time_in_paris(portal: Portal, day: date, days: int, hour: int, minute: int) -> None:
    from datetime import timedelta

    from famille_core.clock import PARIS

    rule = DeadlineRule(days=days, time=f"{hour:02d}:{minute:02d}")
    local = deadline_from_rule(portal, rule, day).astimezone(UTC).astimezone(PARIS)
    # Round trip through UTC: still the configured time on day - N, whatever the offset.
    assert (local.date(), local.hour, local.minute) == (day - timedelta(days=days), hour, minute) or (
        # 02:xx on the March change day does not exist: zoneinfo moves it one hour later.
        local.date() == day - timedelta(days=days) and hour == 2 and local.hour == 3
    )
