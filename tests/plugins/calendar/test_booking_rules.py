"""Booking rules, in the service layer: each rule and each bad input, nothing written on refusal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from famille_core.entities import Activity, BookingPolicy, DomainEvent, Enrollment, Reservation
from famille_core.errors import NotFound
from famille_plugins.calendar.services.booking import cancel, reserve
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book, refusal, reservations_of


def _reserve(cal: Demo, child_id: int, activity_id: int, day: date) -> object:
    with cal.portal.unit_of_work() as uow:
        return reserve(cal.portal, uow, cal.parent, child_id, activity_id, day)


def test_auto_policy_books_at_once_and_writes_the_domain_event(cal: Demo) -> None:
    from famille_core import hookimpl

    changes: list[str] = []

    class Spy:
        @hookimpl
        def on_reservation(self, portal, reservation, change):  # type: ignore[no-untyped-def]
            changes.append(change)

    cal.portal.pm.register(Spy())
    assert book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY) == "accepted"
    assert changes == ["accepted"]  # after the commit
    with cal.portal.unit_of_work() as uow:
        kinds = [e.kind for e in uow.find(DomainEvent, entity="reservation")]
    assert "reservation.accepted" in kinds


def test_request_policy_leaves_a_pending_request(cal: Demo) -> None:
    assert book(cal, cal.emma, cal.soir, FIRST_OPEN_DAY) == "requested"


def test_past_day_is_refused(cal: Demo) -> None:
    code, message = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, date(2026, 11, 12)))
    assert code == "past_day"
    assert message == "Le jeudi 12 novembre 2026 est passé : ce jour ne peut plus être réservé."
    assert reservations_of(cal.portal, cal.emma) == []


def test_day_after_the_deadline_is_locked(cal: Demo) -> None:
    # Tuesday 17 November: J-2 at 10:00 was Sunday 15 November 10:00.
    code, message = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, date(2026, 11, 17)))
    assert code == "deadline_passed"
    assert "dimanche 15 novembre 2026 à 10:00" in message
    assert reservations_of(cal.portal, cal.emma) == []


def test_day_the_activity_does_not_run_is_closed(cal: Demo) -> None:
    code, message = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, date(2026, 11, 25)))  # Wednesday
    assert code == "closed_day"
    assert "Pas d'activité ce jour-là" in message


def test_not_enrolled_child_is_refused(cal: Demo) -> None:
    code, message = refusal(lambda: _reserve(cal, cal.emma, cal.matin, FIRST_OPEN_DAY))
    assert code == "not_enrolled"
    assert message.startswith("Emma n'est pas inscrit(e) à « Accueil du matin »")
    assert reservations_of(cal.portal, cal.emma) == []


def test_enrolment_must_cover_the_date(cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        enrolment = uow.first(Enrollment, child_id=cal.emma, activity_id=cal.cantine)
        assert enrolment is not None
        enrolment.end_date = date(2026, 11, 20)
        uow.commit()
    code, _ = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, date(2026, 11, 23)))
    assert code == "not_enrolled"


def test_one_reservation_per_child_activity_and_day(cal: Demo) -> None:
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    code, _ = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY))
    assert code == "already_booked"
    assert len(reservations_of(cal.portal, cal.emma)) == 1


def test_capacity_is_never_exceeded(cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        activity = uow.get(Activity, cal.cantine)
        assert activity is not None
        activity.capacity = 1
        uow.commit()
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    code, message = refusal(lambda: _reserve(cal, cal.lucas, cal.cantine, FIRST_OPEN_DAY))
    assert code == "full"
    assert message == (
        "« Cantine » est complet le jeudi 19 novembre 2026 (1 places) : aucune place n'a été réservée."
    )


def test_another_familys_child_is_not_found(cal: Demo) -> None:
    with pytest.raises(NotFound):
        _reserve(cal, cal.lea, cal.cantine, FIRST_OPEN_DAY)
    assert reservations_of(cal.portal, cal.lea) == []


def test_unknown_activity_is_not_found(cal: Demo) -> None:
    with pytest.raises(NotFound):
        _reserve(cal, cal.emma, 999_999, FIRST_OPEN_DAY)


def test_cancel_then_book_again_reuses_the_day(cal: Demo) -> None:
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        (reservation,) = uow.find(Reservation, child_id=cal.emma)
        cancel(cal.portal, uow, cal.parent, reservation.id)
        uow.commit()
    assert reservations_of(cal.portal, cal.emma) == [(FIRST_OPEN_DAY, cal.cantine, "cancelled")]
    assert book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY) == "accepted"


def test_cancellation_after_its_deadline_is_refused(cal: Demo) -> None:
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    cal.portal.clock.advance(timedelta(days=1, hours=2))  # Tuesday 17 November 11:00, after J-2 10:00
    with cal.portal.unit_of_work() as uow:
        (reservation,) = uow.find(Reservation, child_id=cal.emma)
        code, message = refusal(lambda: cancel(cal.portal, uow, cal.parent, reservation.id))
    assert code == "cancellation_deadline_passed"
    assert "mardi 17 novembre 2026 à 10:00" in message
    assert reservations_of(cal.portal, cal.emma) == [(FIRST_OPEN_DAY, cal.cantine, "accepted")]


def test_other_household_cannot_cancel(cal: Demo) -> None:
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        (reservation,) = uow.find(Reservation, child_id=cal.emma)
        with pytest.raises(NotFound):
            cancel(cal.portal, uow, cal.other_parent, reservation.id)


def test_validate_reservation_hook_vetoes(cal: Demo) -> None:
    from famille_core import hookimpl
    from famille_core.errors import Issue

    class NoFridays:
        @hookimpl
        def validate_reservation(self, portal, reservation, actor):  # type: ignore[no-untyped-def]
            if reservation.day.weekday() == 4:
                return [Issue("no_friday", "Pas de réservation le vendredi.", "day")]
            return []

    cal.portal.pm.register(NoFridays())
    code, _ = refusal(lambda: _reserve(cal, cal.emma, cal.cantine, date(2026, 11, 20)))
    assert code == "no_friday"
    assert book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY) == "accepted"
    assert BookingPolicy.AUTO  # the demo canteen books at once
