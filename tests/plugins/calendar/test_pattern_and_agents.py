"""Semaine type, the agents' queue, headcounts and absences of the day, and the iCalendar feed."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar

from famille_core import hookimpl
from famille_core.hooks.results import FamilyNotice
from famille_plugins.calendar.services import agents, feeds
from famille_plugins.calendar.services.booking import reserve_pattern
from tests.conftest import csrf_token
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book, refusal, reservations_of


def test_semaine_type_answers_day_by_day(cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        outcomes = reserve_pattern(
            cal.portal, uow, cal.parent, cal.emma, cal.cantine, [0, 2, 3], date(2026, 11, 16), date(2026, 11, 26)
        )
        uow.commit()
    summary = [(o.day.isoformat(), o.booked, o.state) for o in outcomes]
    assert summary == [
        ("2026-11-16", False, "refusé"),  # today: deadline passed
        ("2026-11-18", False, "refusé"),  # Wednesday: the canteen is closed
        ("2026-11-19", True, "réservé"),
        ("2026-11-23", True, "réservé"),
        ("2026-11-25", False, "refusé"),
        ("2026-11-26", True, "réservé"),
    ]
    assert "délai de réservation" in outcomes[0].message
    assert "fermé" in outcomes[1].message
    assert [d for d, _, _ in reservations_of(cal.portal, cal.emma)] == [
        date(2026, 11, 19), date(2026, 11, 23), date(2026, 11, 26)
    ]


def test_semaine_type_needs_weekdays(cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        code, message = refusal(
            lambda: reserve_pattern(cal.portal, uow, cal.parent, cal.emma, cal.cantine, [], FIRST_OPEN_DAY, FIRST_OPEN_DAY)
        )
    assert (code, message) == ("weekdays_required", "Cochez au moins un jour de la semaine.")


class Inbox:
    """Records what the calendar posts to families (stands in for the inbox plugin)."""

    notices: list[FamilyNotice]

    def __init__(self) -> None:
        self.notices = []

    @hookimpl
    def post_family_notice(self, portal: Any, uow: Any, notice: FamilyNotice) -> int:
        self.notices.append(notice)
        return len(self.notices)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def extra_plugins(inbox: Inbox) -> list[object]:
    return [inbox]


def _pending(cal: Demo) -> int:
    with cal.portal.unit_of_work() as uow:
        rows = agents.pending_requests(uow, cal.agent)
        return next(r.reservation.id for r in rows if r.child.id == cal.emma)  # type: ignore[return-value]


def test_agent_accepts_and_family_is_told(agent_client: FlaskClient, cal: Demo, inbox: Inbox) -> None:
    assert book(cal, cal.emma, cal.soir, FIRST_OPEN_DAY) == "requested"
    page = agent_client.get("/gestion/agenda/demandes").get_data(as_text=True)
    assert "Emma DUPONT" in page and "jeudi 19 novembre 2026" in page
    token = csrf_token(agent_client, "/gestion/agenda/demandes")
    response = agent_client.post(f"/gestion/agenda/demandes/{_pending(cal)}", data={"csrf_token": token, "decision": "accept"})
    assert response.status_code == 302
    assert reservations_of(cal.portal, cal.emma) == [(FIRST_OPEN_DAY, cal.soir, "accepted")]
    assert [n.subject for n in inbox.notices] == ["Accueil du soir - inscription prise en compte"]
    assert inbox.notices[0].family_id == cal.family_id


def test_agent_refuses_with_reason_and_parent_sees_it(
    agent_client: FlaskClient, app: Any, cal: Demo, inbox: Inbox
) -> None:
    from tests.conftest import login

    book(cal, cal.emma, cal.soir, FIRST_OPEN_DAY)
    pending = _pending(cal)
    token = csrf_token(agent_client, "/gestion/agenda/demandes")
    response = agent_client.post(f"/gestion/agenda/demandes/{pending}", data={"csrf_token": token, "decision": "refuse"})
    assert response.status_code == 422
    assert "Indiquez le motif du refus." in response.get_data(as_text=True)
    response = agent_client.post(
        f"/gestion/agenda/demandes/{pending}", data={"csrf_token": token, "decision": "refuse", "reason": "Groupe complet"}
    )
    assert response.status_code == 302
    assert inbox.notices[-1].subject == "Accueil du soir - demande refusée"
    assert "Groupe complet" in inbox.notices[-1].body
    parent = app.test_client()
    login(parent, "parent@example.org", "parent-demo-password")
    page = parent.get(f"/agenda/?enfant={cal.emma}&jour=2026-11-19").get_data(as_text=True)
    assert "Accueil du soir : refusé" in page
    assert "Groupe complet" in page
    # Deciding twice is refused.
    with cal.portal.unit_of_work() as uow:
        code, _ = refusal(lambda: agents.decide(cal.portal, uow, cal.agent, pending, True))
    assert code == "already_decided"


def test_parent_cannot_use_agent_pages(parent_client: FlaskClient) -> None:
    assert parent_client.get("/gestion/agenda/demandes").status_code in (403, 404)
    assert parent_client.get("/gestion/agenda/effectifs").status_code in (403, 404)


def test_headcount_per_activity_and_school_with_csv_and_absences(agent_client: FlaskClient, cal: Demo) -> None:
    from famille_plugins.calendar.services.absences import declare_absence

    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    book(cal, cal.lucas, cal.cantine, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        declare_absence(cal.portal, uow, cal.parent, cal.lucas, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "GREVE", activity_id=cal.cantine)
        uow.commit()
    page = agent_client.get("/gestion/agenda/effectifs?jour=2026-11-19").get_data(as_text=True)
    assert "Effectifs du jeudi 19 novembre 2026" in page
    assert "GREVE DU PERSONNEL OU DES ENSEIGNANTS" in page and "Lucas DUPONT" in page
    response = agent_client.get("/gestion/agenda/effectifs.csv?jour=2026-11-19")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Date", "Activité", "École", "Réservés", "Demandes en cours", "Absents", "Attendus"]
    assert ["2026-11-19", "Cantine", "École Jules Ferry", "2", "0", "1", "1"] in rows


def test_ical_feed_lists_reservations_and_absences_and_revoked_token_is_404(
    parent_client: FlaskClient, client: FlaskClient, cal: Demo
) -> None:
    from famille_plugins.calendar.services.absences import declare_absence

    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        declare_absence(cal.portal, uow, cal.parent, cal.emma, date(2026, 11, 20), date(2026, 11, 20), "MEDICAL", activity_id=cal.cantine)
        uow.commit()
    token = csrf_token(parent_client, "/agenda/")
    page = parent_client.post("/agenda/abonnement", data={"csrf_token": token, "child_id": cal.emma, "action": "create"}).get_data(as_text=True)
    url = page.split('id="lien-abonnement" type="text" readonly value="')[1].split('"')[0]
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)  # no login: the secret URL is the key
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = sorted((e.decoded("dtstart"), str(e.get("summary"))) for e in calendar.walk("VEVENT"))
    assert events == [
        (FIRST_OPEN_DAY, "Emma — Cantine : réservé"),
        (date(2026, 11, 20), "Emma — Cantine : absent (RAISON MEDICALE)"),
    ]
    parent_client.post("/agenda/abonnement", data={"csrf_token": token, "child_id": cal.emma, "action": "revoke"})
    assert client.get("/" + path).status_code == 404
    assert client.get("/agenda/ical/not-a-token.ics").status_code == 404


def test_feed_of_another_household_child_is_refused(cal: Demo) -> None:
    from famille_core.errors import NotFound

    with cal.portal.unit_of_work() as uow, pytest.raises(NotFound):
        feeds.create_feed(cal.portal, uow, cal.other_parent, cal.emma)


def test_agent_of_another_service_neither_sees_nor_decides(cal: Demo) -> None:
    from attrs import evolve

    from famille_core.errors import NotFound

    book(cal, cal.emma, cal.soir, FIRST_OPEN_DAY)
    pending = _pending(cal)
    scolaire = evolve(cal.agent, service="SCOLAIRE")
    with cal.portal.unit_of_work() as uow:
        assert agents.pending_requests(uow, scolaire) == []
        # The home page's count follows the same filter as the queue.
        assert agents.pending_count(uow, scolaire) == 0
        assert agents.pending_count(uow, cal.agent) == len(agents.pending_requests(uow, cal.agent)) > 0
        with pytest.raises(NotFound):
            agents.decide(cal.portal, uow, scolaire, pending, True)


def test_headcount_csv_shows_formula_like_names_as_typed(agent_client: FlaskClient, cal: Demo) -> None:
    """CSV injection (docs/security.md point 15): a school or an activity named like a formula
    (a leading TAB or carriage return included) is written as text."""
    from famille_core.entities import Activity, Child

    with cal.portal.unit_of_work() as uow:
        child = uow.get(Child, cal.emma)
        activity = uow.get(Activity, cal.cantine)
        assert child is not None and activity is not None
        child.school = "\t=HYPERLINK(\"http://evil.example\")"
        activity.label = "\r-1+cmd|' /C calc'!A0"
        uow.commit()
    book(cal, cal.emma, cal.cantine, FIRST_OPEN_DAY)
    response = agent_client.get("/gestion/agenda/effectifs.csv?jour=2026-11-19")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert [
        "2026-11-19", "'\r-1+cmd|' /C calc'!A0", "'\t=HYPERLINK(\"http://evil.example\")", "1", "0", "0", "1"
    ] in rows
