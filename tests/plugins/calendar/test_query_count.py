"""The Agenda page runs a constant number of SQL queries, whatever the number of children,
activities, reservations and absences."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from famille_core.entities import (
    Absence,
    Child,
    Enrollment,
    FamilyChild,
    Reservation,
    ReservationState,
)
from tests.plugins.calendar.conftest import Demo
from tests.sql_counting import counting


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    """The pages' queries when they are rendered: without the fast pages' cache, which answers a
    repeated view with the session's and the versions' queries only (tests/host_flask/
    test_page_cache.py)."""
    return {**settings_data, "portal": {**settings_data["portal"], "page_cache_entries": 0}}


def _grow(cal: Demo, extra_children: int) -> None:
    """Add children, enrolments, a month of reservations and absences to the household."""
    now = cal.portal.clock.now()
    with cal.portal.unit_of_work() as uow:
        for n in range(extra_children):
            kid = Child(first_name=f"Aaron{n}", last_name="DUPONT", school="École Jules Ferry")
            uow.add(kid)
            uow.flush()
            assert kid.id is not None
            uow.add(FamilyChild(family_id=cal.family_id, child_id=kid.id))
            for activity in (cal.cantine, cal.soir, cal.matin):
                uow.add(
                    Enrollment(
                        child_id=kid.id,
                        activity_id=activity,
                        family_id=cal.family_id,
                        start_date=date(2026, 9, 1),
                        end_date=date(2027, 7, 5),
                    )
                )
        for offset in range(30):
            day = date(2026, 11, 1) + timedelta(days=offset)
            for activity in (cal.cantine, cal.soir):
                uow.add(
                    Reservation(
                        child_id=cal.emma,
                        activity_id=activity,
                        family_id=cal.family_id,
                        day=day,
                        state=ReservationState.ACCEPTED,
                        created_at=now,
                    )
                )
            uow.add(
                Absence(
                    child_id=cal.emma,
                    activity_id=cal.cantine,
                    family_id=cal.family_id,
                    day=day,
                    reason_code="AUTRES",
                    reason_label="AUTRES",
                    billable=True,
                    created_at=now,
                )
            )
        uow.commit()


def test_agenda_page_query_count_is_constant(
    parent_client: FlaskClient, cal: Demo, engine: Engine
) -> None:
    url = f"/agenda/?enfant={cal.emma}&mois=2026-11&jour=2026-11-19"
    parent_client.get(url)  # warm-up (first request loads caches)
    with counting(engine) as small:
        assert parent_client.get(url).status_code == 200
    _grow(cal, extra_children=6)
    with counting(engine) as large:
        page = parent_client.get(url)
        assert page.status_code == 200
    assert "Aaron5" in page.get_data(as_text=True)  # the larger household is on the page
    assert len(large) == len(small), "\n".join(large)
    assert len(small) <= 15


def test_bench_script_runs_and_prints_ratios(capsys) -> None:  # type: ignore[no-untyped-def]
    import runpy
    from pathlib import Path

    bench = runpy.run_path(str(Path(__file__).parents[3] / "bench" / "calendar_bench.py"))
    bench["main"](3)
    out = capsys.readouterr().out
    assert "ratio page / bare:" in out and "Booking form (POST + redirect)" in out


def test_booking_post_reads_the_day_once_under_its_lock(
    parent_client: FlaskClient, cal: Demo, engine: Engine
) -> None:
    """The booking POST takes the day's capacity lock before reading the child's day, so the
    booking found there is not read again, and the activity is read once (docs/deployment.md,
    "Fast pages")."""
    from tests.conftest import csrf_token
    from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, reservations_of

    token = csrf_token(parent_client, "/agenda/")
    data = {"child_id": cal.emma, "activity_id": cal.cantine, "day": FIRST_OPEN_DAY.isoformat(), "csrf_token": token}
    with counting(engine) as statements:
        assert parent_client.post("/agenda/reserver", data=data).status_code == 302
    assert reservations_of(cal.portal, cal.emma) == [(FIRST_OPEN_DAY, cal.cantine, ReservationState.ACCEPTED)]
    selects = [" ".join(s.split()) for s in statements if s.lstrip().upper().startswith("SELECT")]
    rows_read = [s for s in selects if "FROM reservation" in s and "count(" not in s]
    assert len(rows_read) == 1, "\n".join(rows_read)
    assert len([s for s in selects if "FROM activity" in s]) == 1, "\n".join(selects)
    locks = [i for i, s in enumerate(statements) if "named_lock" in s or "pg_advisory_xact_lock" in s]
    first_read = next(i for i, s in enumerate(statements) if " ".join(s.split()) in rows_read)
    assert locks and locks[0] < first_read, "the day is read before its lock is taken"
    assert len(statements) <= 11, "\n".join(statements)
