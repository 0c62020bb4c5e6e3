"""One truth for a day's state (issue 17, point 4): an absence supersedes the booking of the same
child, activity and day on the home panel, in the iCalendar feed and in the API, as in the Agenda;
the feed has one event per child, activity and day, named after the child, and its calendar name
says whose calendar it is."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from icalendar import Calendar

from famille_core.entities import Scope
from famille_plugins.calendar.services import feeds
from famille_plugins.calendar.services.absences import declare_absence
from tests.api.conftest import make_token
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book

FRIDAY = date(2026, 11, 20)


def _booked_then_absent(cal: Demo) -> None:
    """Emma and Lucas booked for the canteen on Thursday 19 and Friday 20; Emma then declared
    absent (medical reason) on Thursday for every activity."""
    for child in (cal.emma, cal.lucas):
        for day in (FIRST_OPEN_DAY, FRIDAY):
            book(cal, child, cal.cantine, day)
    with cal.portal.unit_of_work() as uow:
        declare_absence(cal.portal, uow, cal.parent, cal.emma, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "MEDICAL")
        uow.commit()


def _feed(cal: Demo, client: FlaskClient, child_id: int | None) -> Calendar:
    with cal.portal.unit_of_work() as uow:
        token = feeds.create_feed(cal.portal, uow, cal.parent, child_id)
        uow.commit()
    response = client.get(f"/agenda/ical/{token}.ics")
    assert response.status_code == 200
    return Calendar.from_ical(response.data)


def _events(calendar: Calendar) -> list[tuple[date, str]]:
    return sorted((e.decoded("dtstart"), str(e.get("summary"))) for e in calendar.walk("VEVENT"))


def test_home_panel_shows_the_absent_day_absent_not_booked(parent_client: FlaskClient, cal: Demo) -> None:
    _booked_then_absent(cal)
    page = parent_client.get("/").get_data(as_text=True)
    assert "Emma, Cantine : absent (RAISON MEDICALE)" in page
    assert "Emma, Cantine : réservé" in page  # Friday is still booked
    thursday = page.split("Jeudi 19 novembre 2026")[1].split("Vendredi 20 novembre 2026")[0]
    assert "Emma, Cantine : réservé" not in thursday
    assert "Emma, Accueil du soir : absent (RAISON MEDICALE)" in thursday
    assert "Lucas, Cantine : réservé" in thursday


def test_household_feed_has_one_event_per_child_activity_and_day(
    client: FlaskClient, cal: Demo
) -> None:
    _booked_then_absent(cal)
    calendar = _feed(cal, client, None)
    assert str(calendar.get("x-wr-calname")) == "Portail Famille — foyer DUPONT"
    events = [e for e in _events(calendar) if e[0] in (FIRST_OPEN_DAY, FRIDAY)]
    assert events == [
        (FIRST_OPEN_DAY, "Emma — Accueil du soir : absent (RAISON MEDICALE)"),
        (FIRST_OPEN_DAY, "Emma — Cantine : absent (RAISON MEDICALE)"),
        (FIRST_OPEN_DAY, "Lucas — Cantine : réservé"),
        (FRIDAY, "Emma — Cantine : réservé"),
        (FRIDAY, "Lucas — Cantine : réservé"),
    ]
    uids = [str(e.get("uid")) for e in calendar.walk("VEVENT")]
    assert len(uids) == len(set(uids))


def test_child_feed_is_named_after_the_child_and_holds_only_theirs(client: FlaskClient, cal: Demo) -> None:
    _booked_then_absent(cal)
    calendar = _feed(cal, client, cal.emma)
    assert str(calendar.get("x-wr-calname")) == "Portail Famille — Emma DUPONT"
    assert _events(calendar) == [
        (FIRST_OPEN_DAY, "Emma — Accueil du soir : absent (RAISON MEDICALE)"),
        (FIRST_OPEN_DAY, "Emma — Cantine : absent (RAISON MEDICALE)"),
        (FRIDAY, "Emma — Cantine : réservé"),
    ]


def test_api_marks_the_booking_an_absence_supersedes(client: FlaskClient, cal: Demo) -> None:
    _booked_then_absent(cal)
    auth = {"Authorization": f"Bearer {make_token(cal.portal, 'erp', [Scope.AGENDA_READ.value])}"}
    response = client.get("/api/v1/reservations?from=2026-11-19&to=2026-11-20", headers=auth)
    assert response.status_code == 200
    items = {(i["child_id"], i["day"]): i["absent"] for i in response.get_json()["items"] if i["activity_id"] == cal.cantine}
    assert items == {
        (cal.emma, "2026-11-19"): True,
        (cal.emma, "2026-11-20"): False,
        (cal.lucas, "2026-11-19"): False,
        (cal.lucas, "2026-11-20"): False,
    }
