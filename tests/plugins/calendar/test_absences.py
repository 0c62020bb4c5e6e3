"""Absences: one day or a range, a reason from the list, an optional comment."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from famille_core import hookimpl
from famille_core.entities import Absence, DomainEvent
from famille_core.errors import NotFound
from famille_plugins.calendar.services.absences import declare_absence, withdraw_absence
from famille_plugins.calendar.services.reasons import reasons_for
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book, refusal
from tests.plugins.calendar.test_reason_plugins import GUIDE


def _declare(cal: Demo, start: date, end: date, reason: str = "MEDICAL", **kw: object) -> list[tuple[date, int, str, bool]]:
    with cal.portal.unit_of_work() as uow:
        created = declare_absence(cal.portal, uow, kw.pop("actor", cal.parent), kw.pop("child", cal.emma), start, end, reason, **kw)  # type: ignore[arg-type]
        uow.commit()
        return [(a.day, a.activity_id, a.reason_label, a.billable) for a in created]


def _stored(cal: Demo) -> list[tuple[date, int, str]]:
    with cal.portal.unit_of_work() as uow:
        return [(a.day, a.activity_id, a.reason_code) for a in uow.find(Absence, child_id=cal.emma, order_by=("day", "activity_id"))]


def test_one_day_absence_with_reason_for_every_enrolled_activity(cal: Demo) -> None:
    changes: list[str] = []

    class Spy:
        @hookimpl
        def on_absence(self, portal, absence, change):  # type: ignore[no-untyped-def]
            changes.append(change)

    cal.portal.pm.register(Spy())
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        before = uow.count(DomainEvent, kind="absence.declared")
    created = _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, comment="Angine")
    assert created == [
        (FIRST_OPEN_DAY, cal.cantine, "RAISON MEDICALE", False),
        (FIRST_OPEN_DAY, cal.soir, "RAISON MEDICALE", False),
    ]
    assert changes == ["declared", "declared"]
    with cal.portal.unit_of_work() as uow:
        assert uow.count(DomainEvent, kind="absence.declared") == before + 2


def test_range_skips_closed_days(cal: Demo) -> None:
    # Thursday 19 to Tuesday 24 November: Wednesday and the weekend are skipped.
    created = _declare(cal, date(2026, 11, 19), date(2026, 11, 24), "AUTRES", activity_id=cal.cantine)
    assert [d for d, *_ in created] == [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)]
    assert all(billable for *_, billable in created)  # AUTRES stays billable


def test_unknown_reason_is_refused(cal: Demo) -> None:
    code, message = refusal(lambda: _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "VACANCES"))
    assert (code, message) == ("unknown_reason", "Ce motif d'absence n'existe pas : choisissez-en un dans la liste.")
    assert _stored(cal) == []


def test_past_day_is_refused(cal: Demo) -> None:
    code, _ = refusal(lambda: _declare(cal, date(2026, 11, 13), date(2026, 11, 13)))
    assert code == "past_day"
    assert _stored(cal) == []


def test_closed_single_day_is_refused(cal: Demo) -> None:
    code, message = refusal(lambda: _declare(cal, date(2026, 11, 25), date(2026, 11, 25), activity_id=cal.cantine))
    assert code == "closed_day"
    assert "Pas d'activité ce jour-là" in message


def test_not_enrolled_activity_is_refused(cal: Demo) -> None:
    code, _ = refusal(lambda: _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, activity_id=cal.matin))
    assert code == "not_enrolled"


def test_reversed_range_and_control_characters_are_refused(cal: Demo) -> None:
    code, _ = refusal(lambda: _declare(cal, date(2026, 11, 24), date(2026, 11, 19)))
    assert code == "range_order"
    code, _ = refusal(lambda: _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, comment="a\x00b"))
    assert code == "control_characters"


def test_twice_the_same_day_is_refused(cal: Demo) -> None:
    _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, activity_id=cal.cantine)
    code, _ = refusal(lambda: _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, activity_id=cal.cantine))
    assert code == "already_absent"


def test_other_household_child_is_not_found(cal: Demo) -> None:
    with pytest.raises(NotFound):
        _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, actor=cal.other_parent)


def test_withdraw_an_absence(cal: Demo) -> None:
    _declare(cal, FIRST_OPEN_DAY, FIRST_OPEN_DAY, activity_id=cal.cantine)
    with cal.portal.unit_of_work() as uow:
        (absence,) = uow.find(Absence, child_id=cal.emma)
        with pytest.raises(NotFound):
            withdraw_absence(cal.portal, uow, cal.other_parent, absence.id)  # type: ignore[arg-type]
        withdraw_absence(cal.portal, uow, cal.parent, absence.id)  # type: ignore[arg-type]
        uow.commit()
    assert _stored(cal) == []
    with cal.portal.unit_of_work() as uow:
        assert uow.count(DomainEvent, kind="absence.withdrawn") == 1


def test_absent_day_shows_absent_with_reason_on_the_page(parent_client, cal: Demo) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token

    token = csrf_token(parent_client, "/agenda/")
    response = parent_client.post(
        "/agenda/absence",
        data={"csrf_token": token, "child_id": cal.emma, "activity_id": cal.cantine, "start": "2026-11-19", "reason": "MEDICAL"},
    )
    assert response.status_code == 302
    page = parent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cantine : absent (RAISON MEDICALE)" in page
    response = parent_client.post(
        "/agenda/absence",
        data={"csrf_token": token, "child_id": cal.emma, "start": "2026-11-20", "reason": ""},
    )
    assert response.status_code == 422
    assert "Choisissez le motif de l&#39;absence." in response.get_data(as_text=True)


def test_default_list_is_the_user_guides_nine_reasons(portal: Any) -> None:
    reasons = reasons_for(portal)
    assert [r.label for r in reasons] == GUIDE
    assert [r.code for r in reasons if r.billable] == ["AUTRES"]
