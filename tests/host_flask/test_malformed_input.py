"""The malformed inputs of the outside review (finding 17, docs/security.md point 14): each gets
a 4xx with a message and changes nothing (they were 500s, the identifiers on PostgreSQL)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Absence, Activity, Child, Reservation
from tests.api.conftest import make_token
from tests.conftest import csrf_token

HUGE = "99999999999"


@pytest.mark.parametrize(
    "path", [f"/factures/{HUGE}", f"/factures/{2**31}/pdf", f"/compte/enfants/{HUGE}/", f"/messages/{HUGE}"]
)
def test_identifiers_beyond_the_database_are_404(parent_client: FlaskClient, path: str) -> None:
    assert parent_client.get(path).status_code == 404


def _ids(portal: Portal) -> tuple[int, int]:
    with portal.unit_of_work() as uow:
        emma = uow.first(Child, first_name="Emma")
        cantine = uow.first(Activity, code="CANTINE")
        assert emma is not None and cantine is not None
        return emma.id or 0, cantine.id or 0


@pytest.mark.parametrize("field", ["child_id", "activity_id"])
@pytest.mark.parametrize("value", [HUGE, str(2**31), "-2147483649", "0"])
def test_booking_with_identifiers_beyond_the_database_is_404(
    parent_client: FlaskClient, demo: Portal, field: str, value: str
) -> None:
    emma, cantine = _ids(demo)
    form = {"child_id": str(emma), "activity_id": str(cantine), "day": "2026-11-19", field: value}
    response = parent_client.post(
        "/agenda/reserver", data={**form, "csrf_token": csrf_token(parent_client, "/agenda/")}
    )
    assert response.status_code == 404
    with demo.unit_of_work() as uow:
        assert uow.count(Reservation, child_id=emma) == 0


@pytest.mark.parametrize(
    "query", ["mois=0001-01", "mois=9999-12", "jour=9999-12-31", "jour=0001-01-01", "mois=1900-01"]
)
def test_agenda_months_out_of_range_fall_back_to_a_handled_month(
    parent_client: FlaskClient, query: str
) -> None:
    response = parent_client.get(f"/agenda/?{query}")
    assert response.status_code == 200
    assert "Agenda" in response.get_data(as_text=True)


def test_agents_headcount_of_a_day_out_of_range_is_404(agent_client: FlaskClient) -> None:
    assert agent_client.get("/gestion/agenda/effectifs?jour=9999-12-31").status_code == 404
    assert agent_client.get("/gestion/agenda/effectifs?jour=2026-11-19").status_code == 200


@pytest.mark.parametrize(
    "path,form",
    [
        ("/agenda/absence", {"start": "2026-11-19", "end": "9999-12-31", "reason": "MEDICAL"}),
        ("/agenda/absence", {"start": "0001-01-01", "end": "0001-01-02", "reason": "MEDICAL"}),
        ("/agenda/semaine-type", {"start": "2026-11-19", "end": "9999-12-31", "weekdays": "0"}),
        ("/agenda/semaine-type", {"start": "9999-12-30", "end": "9999-12-31", "weekdays": "0"}),
        ("/agenda/reserver", {"day": "9999-12-31"}),
    ],
)
def test_date_ranges_reaching_year_1_or_9999_are_refused_in_french(
    parent_client: FlaskClient, demo: Portal, path: str, form: dict[str, str]
) -> None:
    emma, cantine = _ids(demo)
    data = {"child_id": str(emma), "activity_id": str(cantine), **form}
    response = parent_client.post(
        path, data={**data, "csrf_token": csrf_token(parent_client, "/agenda/")}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "date hors de la période gérée" in page or "dépasser" in page
    with demo.unit_of_work() as uow:
        assert uow.count(Absence, child_id=emma) == 0
        assert uow.count(Reservation, child_id=emma) == 0


def test_the_api_refuses_dates_the_portal_does_not_handle(demo: Portal, client: FlaskClient) -> None:
    auth = {"Authorization": "Bearer " + make_token(demo, "erp", ["agenda:read", "enrolments:write"])}
    listed = client.get("/api/v1/reservations?from=0001-01-01&to=9999-12-31", headers=auth)
    assert listed.status_code == 400 and listed.mimetype == "application/problem+json"
    enrolment = {
        "external_id": "INS-9999",
        "child": "ENF-1",
        "family": "ERP-694504900001",
        "activity": "CANTINE",
        "start_date": "2026-09-01",
        "end_date": "9999-12-31",
    }
    response = client.post("/api/v1/enrolments", json=enrolment, headers=auth)
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json["errors"]] == [
        ("end_date", "Date hors de la période gérée (1900–2199).")
    ]
