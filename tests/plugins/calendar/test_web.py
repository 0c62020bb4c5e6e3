"""The Agenda page and its plain HTML forms (no JavaScript needed)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from famille_core.entities import ReservationState
from tests.conftest import csrf_token
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, reservations_of


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> object:
    token = csrf_token(client, "/agenda/")
    return client.post(path, data={**data, "csrf_token": token})


def test_agenda_shows_month_grid_with_states_in_words_and_legend(parent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get(f"/agenda/?enfant={cal.lucas}&mois=2026-11").get_data(as_text=True)
    assert "Novembre 2026 — Lucas" in page
    assert "Légende" in page
    for words in ("réservable", "demande en cours", "réservé", "refusé", "absent", "verrouillé", "fermé", "non inscrit"):
        assert words in page
    # Each day is a link whose accessible name carries the date and the states in words.
    assert 'aria-label="jeudi 19 novembre 2026, Cantine : réservable' in page
    assert 'aria-label="mercredi 18 novembre 2026, Cantine : fermé' in page
    assert 'aria-label="lundi 16 novembre 2026 (aujourd\'hui), Cantine : verrouillé' in page


def test_parent_books_a_day_with_the_plain_form_and_sees_it_booked(parent_client: FlaskClient, cal: Demo) -> None:
    response = _post(
        parent_client,
        "/agenda/reserver",
        {"child_id": cal.emma, "activity_id": cal.cantine, "day": FIRST_OPEN_DAY.isoformat()},
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    page = parent_client.get(response.headers["Location"]).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "jeudi 19 novembre 2026 : réservé." in page
    assert 'aria-label="jeudi 19 novembre 2026, Cantine : réservé' in page
    assert reservations_of(cal.portal, cal.emma) == [(FIRST_OPEN_DAY, cal.cantine, ReservationState.ACCEPTED)]


def test_refused_booking_shows_french_message_and_writes_nothing(parent_client: FlaskClient, cal: Demo) -> None:
    response = _post(
        parent_client,
        "/agenda/reserver",
        {"child_id": cal.emma, "activity_id": cal.cantine, "day": "2026-11-18"},
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "« Cantine » est fermé le mercredi 18 novembre 2026" in page
    assert reservations_of(cal.portal, cal.emma) == []


def test_malformed_date_is_a_french_field_error(parent_client: FlaskClient, cal: Demo) -> None:
    response = _post(
        parent_client, "/agenda/reserver", {"child_id": cal.emma, "activity_id": cal.cantine, "day": "19/11/2026"}
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Jour : date invalide (format attendu AAAA-MM-JJ)." in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_another_familys_child_answers_404(parent_client: FlaskClient, cal: Demo) -> None:
    assert parent_client.get(f"/agenda/?enfant={cal.lea}").status_code == 404
    response = _post(
        parent_client, "/agenda/reserver", {"child_id": cal.lea, "activity_id": cal.cantine, "day": "2026-11-19"}
    )
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert reservations_of(cal.portal, cal.lea) == []


def test_forms_carry_csrf_tokens(parent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get(f"/agenda/?enfant={cal.emma}&jour=2026-11-19").get_data(as_text=True)
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    assert forms and all('name="csrf_token"' in f for f in forms)
    response = parent_client.post(
        "/agenda/reserver", data={"child_id": cal.emma, "activity_id": cal.cantine, "day": "2026-11-19"}
    )
    assert response.status_code == 400
    assert reservations_of(cal.portal, cal.emma) == []


def test_agent_does_not_see_the_parent_agenda(agent_client: FlaskClient) -> None:
    assert agent_client.get("/agenda/").status_code in (403, 404)


def test_machine_client_gets_structured_errors(parent_client: FlaskClient, cal: Demo) -> None:
    token = csrf_token(parent_client, "/agenda/")
    response = parent_client.post(
        "/agenda/reserver",
        data={"csrf_token": token, "child_id": cal.emma, "activity_id": cal.matin, "day": "2026-11-19"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "not_enrolled"
    assert response.get_json()["errors"][0]["field"] == "day"


def test_demo_has_bookings_a_request_and_an_absence(cal: Demo) -> None:
    states = {state for _, _, state in reservations_of(cal.portal, cal.lucas)}
    assert states == {"accepted", "requested"}


def test_home_page_lists_the_next_booked_days(parent_client: FlaskClient, agent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get("/").get_data(as_text=True)
    assert "Lucas, Cantine : réservé" in page
    assert "Lucas, Accueil du soir : demande en cours" in page
    assert "1 demande attend une décision." in agent_client.get("/").get_data(as_text=True)


def test_semaine_type_form_answers_day_by_day(parent_client: FlaskClient, cal: Demo) -> None:
    token = csrf_token(parent_client, "/agenda/")
    response = parent_client.post(
        "/agenda/semaine-type",
        data={"csrf_token": token, "child_id": cal.emma, "activity_id": cal.cantine, "weekdays": ["3", "4"],
              "start": "2026-11-19", "end": "2026-12-25"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Jeudi 19 novembre 2026 : <strong>réservé</strong>" in page
    assert "Vendredi 25 décembre 2026 : <strong>refusé</strong>" in page and "Jour férié : Noël" in page
