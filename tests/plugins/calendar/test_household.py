"""The household's Agenda (issue 17, point 3): every child and activity over a week or a month,
booking and absence for several children and days in one action, each one's result stated;
plain HTML forms (no JavaScript needed), the same rules as the one-day actions."""

from __future__ import annotations

import html
import re
from datetime import date

from flask.testing import FlaskClient

from famille_core.entities import Absence, ReservationState
from tests.conftest import csrf_token
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, reservations_of


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> tuple[int, str]:
    token = csrf_token(client, "/agenda/foyer")
    response = client.post(path, data={**data, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match
    return html.unescape(" ".join(match.group(1).split()))


def _absences(cal: Demo) -> list[tuple[str, date, int, str]]:
    names = {cal.emma: "Emma", cal.lucas: "Lucas"}
    with cal.portal.unit_of_work() as uow:
        return sorted(
            (names.get(a.child_id, "?"), a.day, a.activity_id, a.reason_code) for a in uow.find(Absence)
            if a.child_id in names and a.day < date(2026, 11, 23)  # the demo's own absence is later
        )


def test_week_shows_every_child_and_activity_in_words(parent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get("/agenda/foyer?du=2026-11-19").get_data(as_text=True)
    commune = cal.portal.settings.collectivity.name
    assert _title(page) == f"Agenda du foyer — semaine du lundi 16 novembre 2026 — {commune}"
    for words in (
        "Emma, Cantine : réservable",
        "Emma, Accueil du soir : réservable",
        "Lucas, Accueil du matin : réservable",
        "Lucas, Cantine : verrouillé",  # Monday 16: the deadline has passed
    ):
        assert words in page
    # Only the open days: no box for the weekend nor for Wednesday (no activity of theirs).
    assert "Samedi 21 novembre 2026" not in page and "Mercredi 18 novembre 2026" not in page
    assert f'name="choix" value="{cal.emma}:{cal.cantine}:2026-11-19"' in page
    month = parent_client.get("/agenda/foyer?vue=mois&du=2026-12-10").get_data(as_text=True)
    assert _title(month) == f"Agenda du foyer — décembre 2026 — {commune}"
    assert "Vacances de Noël, du 21/12 au 01/01" in month
    assert "Jeudi 31 décembre 2026" not in month


def test_booking_several_children_and_days_states_each_result(parent_client: FlaskClient, cal: Demo) -> None:
    boxes = [
        f"{cal.emma}:{cal.cantine}:2026-11-19",
        f"{cal.lucas}:{cal.cantine}:2026-11-19",
        f"{cal.emma}:{cal.soir}:2026-11-20",
        f"{cal.emma}:{cal.cantine}:2026-11-16",  # the deadline has passed
        f"{cal.lucas}:{cal.cantine}:2026-11-18",  # no canteen on Wednesdays
    ]
    status, page = _post(parent_client, "/agenda/foyer/reserver", {"choix": boxes, "du": "2026-11-16"})
    assert status == 200
    assert "Réservation : 3 case(s) réservée(s) ou demandée(s) sur 5." in page
    assert "Jeudi 19 novembre 2026 — Emma, Cantine : <strong>réservé</strong>" in page
    assert "Jeudi 19 novembre 2026 — Lucas, Cantine : <strong>réservé</strong>" in page
    assert "Vendredi 20 novembre 2026 — Emma, Accueil du soir : <strong>demande en cours</strong>" in page
    assert "Lundi 16 novembre 2026 — Emma, Cantine : <strong>refusé</strong> — Le délai de réservation" in page
    assert "Mercredi 18 novembre 2026 — Lucas, Cantine : <strong>refusé</strong> — « Cantine » est fermé" in page
    assert _title(page).startswith("Agenda du foyer — semaine du lundi 16 novembre 2026 — résultat")
    assert reservations_of(cal.portal, cal.emma) == [
        (FIRST_OPEN_DAY, cal.cantine, ReservationState.ACCEPTED),
        (date(2026, 11, 20), cal.soir, ReservationState.REQUESTED),
    ]
    assert (FIRST_OPEN_DAY, cal.cantine, ReservationState.ACCEPTED) in reservations_of(cal.portal, cal.lucas)


def test_absence_for_two_children_and_two_days_in_one_action(parent_client: FlaskClient, cal: Demo) -> None:
    status, page = _post(
        parent_client,
        "/agenda/foyer/absence",
        {"enfants": [cal.emma, cal.lucas], "start": "2026-11-19", "end": "2026-11-20", "reason": "MEDICAL"},
    )
    assert status == 200
    assert "Absence : 4 jour(s) enregistré(s) sur 4." in page
    for day in ("Jeudi 19 novembre 2026", "Vendredi 20 novembre 2026"):
        assert f"{day} — Emma, Cantine, Accueil du soir : <strong>absent (RAISON MEDICALE)</strong>" in page
        assert f"{day} — Lucas, Cantine, Accueil du matin, Accueil du soir : <strong>absent (RAISON MEDICALE)</strong>" in page
    absences = _absences(cal)
    assert len(absences) == 2 * 2 + 3 * 2 and {a[3] for a in absences} == {"MEDICAL"}


def test_absence_day_already_declared_is_stated_and_the_others_stored(parent_client: FlaskClient, cal: Demo) -> None:
    _post(parent_client, "/agenda/foyer/absence", {"enfants": [cal.emma], "start": "2026-11-19", "reason": "MEDICAL"})
    status, page = _post(
        parent_client,
        "/agenda/foyer/absence",
        {"enfants": [cal.emma], "start": "2026-11-19", "end": "2026-11-20", "reason": "MEDICAL"},
    )
    assert status == 200
    assert "Jeudi 19 novembre 2026 — Emma : <strong>refusé</strong> — Une absence est déjà déclarée" in page
    assert "Vendredi 20 novembre 2026 — Emma, Cantine, Accueil du soir : <strong>absent (RAISON MEDICALE)</strong>" in page
    assert [a[1] for a in _absences(cal)] == [FIRST_OPEN_DAY] * 2 + [date(2026, 11, 20)] * 2


def test_refused_household_forms_say_why_in_french_and_write_nothing(parent_client: FlaskClient, cal: Demo) -> None:
    status, page = _post(parent_client, "/agenda/foyer/absence", {"start": "2026-11-19", "reason": "MEDICAL"})
    assert status == 422
    assert _title(page).startswith("Erreur : Agenda du foyer")
    assert "Cochez au moins un enfant." in page and 'href="#f-enfants"' in page
    status, page = _post(
        parent_client, "/agenda/foyer/absence", {"enfants": [cal.emma], "start": "2026-11-19", "reason": "INCONNU"}
    )
    assert status == 422
    status, page = _post(parent_client, "/agenda/foyer/reserver", {"du": "2026-11-16"})
    assert status == 422 and "Cochez au moins un jour à réserver." in page
    assert _absences(cal) == [] and reservations_of(cal.portal, cal.emma) == []


def test_another_households_child_is_not_found_and_nothing_is_written(parent_client: FlaskClient, cal: Demo) -> None:
    status, _page = _post(
        parent_client,
        "/agenda/foyer/reserver",
        {"choix": [f"{cal.emma}:{cal.cantine}:2026-11-19", f"{cal.lea}:{cal.cantine}:2026-11-19"]},
    )
    assert status == 404
    status, _page = _post(
        parent_client, "/agenda/foyer/absence", {"enfants": [cal.emma, cal.lea], "start": "2026-11-19", "reason": "MEDICAL"}
    )
    assert status == 404
    assert reservations_of(cal.portal, cal.emma) == [] and reservations_of(cal.portal, cal.lea) == []
    assert _absences(cal) == []


def test_household_feed_is_created_from_the_household_page(parent_client: FlaskClient, client: FlaskClient) -> None:
    token = csrf_token(parent_client, "/agenda/foyer")
    page = parent_client.post("/agenda/abonnement", data={"csrf_token": token, "action": "create"}).get_data(as_text=True)
    url = page.split('id="lien-abonnement" type="text" readonly value="')[1].split('"')[0]
    response = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200 and b"X-WR-CALNAME:Portail Famille \xe2\x80\x94 foyer DUPONT" in response.data
