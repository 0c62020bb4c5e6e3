"""The records a parent edits, read by the ERP through the API (issue 16, step 1): the same
fields as the forms, the IBAN masked unless ``bank:read``, the health record only with
``health:read``, each such read audited, the photo behind ``photos:read``."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import AuditRecord, Child, Family
from famille_plugins.profile.services.fields import SECTION_FIELDS
from tests.api.conftest import make_token


def _headers(portal: Portal, name: str, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(portal, name, scopes)}"}


def _dupont(portal: Portal) -> Family:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        assert family is not None
        return family


def _audits(portal: Portal, record_type: str) -> list[AuditRecord]:
    with portal.unit_of_work() as uow:
        return uow.find(AuditRecord, record_type=record_type, order_by=("id",))


def test_households_carry_every_field_of_the_forms_with_the_iban_masked(demo: Portal, client: FlaskClient) -> None:
    headers = _headers(demo, "erp", "families:read")
    family = _dupont(demo)
    body = client.get(f"/api/v1/households?family_id={family.id}", headers=headers).json
    assert body["total"] == 1
    household = body["items"][0]
    for section, key in (("responsable", "responsable"), ("conjoint", "conjoint"), ("fiscal", "fiscal"), ("caf", "caf"), ("banque", "bank")):
        names = {spec.name for spec in SECTION_FIELDS[section]}
        assert names <= set(household[key]), section
    assert household["conjoint"]["phone_mobile"] == "06 98 76 54 32"
    assert household["fiscal"]["reference_income"] == "42000.00"
    assert household["fiscal"]["quotient"] == "1166.67"  # 42 000 / 12 / 3 parts
    assert household["caf"]["allocataire_number"] == "1234567"
    assert household["bank"]["iban"] == "FR76 **** **** **** **** ***0 189"
    assert "FR7630006000011234567890189" not in str(body)
    assert _audits(demo, "bank_details") == []


def test_bank_details_in_full_need_bank_read_and_each_read_is_audited(demo: Portal, client: FlaskClient) -> None:
    family = _dupont(demo)
    without = _headers(demo, "erp", "families:read")
    assert client.get("/api/v1/bank-details", headers=without).status_code == 403
    headers = _headers(demo, "compta", "bank:read")
    body = client.get(f"/api/v1/bank-details?family_id={family.id}", headers=headers).json
    assert [item["iban"] for item in body["items"]] == ["FR7630006000011234567890189"]
    client.get("/api/v1/bank-details", headers=headers)
    audits = _audits(demo, "bank_details")
    assert len(audits) == 2
    assert {a.action for a in audits} == {"read"}
    assert audits[0].family_id == family.id and audits[0].api_client_id is not None
    assert audits[0].actor_user_id is None


def test_child_records_and_the_health_record_behind_its_scope(demo: Portal, client: FlaskClient) -> None:
    with demo.unit_of_work() as uow:
        emma = uow.first(Child, first_name="Emma")
        assert emma is not None
    headers = _headers(demo, "erp", "families:read")
    record = client.get(f"/api/v1/child-records?child_id={emma.id}", headers=headers).json["items"][0]
    assert {spec.name for spec in SECTION_FIELDS["complementaires"]} <= set(record["details"])
    assert record["has_health_record"] is True
    assert "food_allergies" not in str(record)
    assert client.get("/api/v1/health-records", headers=headers).status_code == 403
    health = _headers(demo, "infirmerie", "health:read")
    body = client.get(f"/api/v1/health-records?child_id={emma.id}", headers=health).json
    (item,) = body["items"]
    assert {spec.name for spec in SECTION_FIELDS["sanitaires"]} <= set(item)
    assert item["food_allergies"]
    audits = _audits(demo, "health_record")
    assert [a.record_id for a in audits] == [item["id"]]


@pytest.mark.parametrize("scopes", [("families:read",), ("photos:read",)])
def test_the_photo_needs_photos_read(demo: Portal, client: FlaskClient, scopes: tuple[str, ...]) -> None:
    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas")
        assert lucas is not None
    response: Any = client.get(f"/api/v1/photos?child_id={lucas.id}", headers=_headers(demo, "erp", *scopes))
    # Lucas has no photo in the demo: with the scope, a 404 problem; without it, a 403.
    assert response.status_code == (404 if "photos:read" in scopes else 403)


def test_profile_paths_and_scopes_are_in_openapi(demo: Portal, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    scopes = {
        path: document["paths"][path]["get"]["security"][0]["bearer"]
        for path in ("/households", "/bank-details", "/child-records", "/health-records", "/photos")
    }
    assert scopes == {
        "/households": ["families:read"],
        "/bank-details": ["bank:read"],
        "/child-records": ["families:read"],
        "/health-records": ["health:read"],
        "/photos": ["photos:read"],
    }


@pytest.fixture
def writer(demo: Portal) -> dict[str, str]:
    return _headers(demo, "erp-w", "families:read", "families:write")


def _household(client: FlaskClient, headers: dict[str, str], family_id: int | None) -> Any:
    return client.get(f"/api/v1/households?family_id={family_id}", headers=headers).json["items"][0]


def test_an_erp_change_of_an_immediate_section_is_applied_and_keeps_the_other_fields(
    demo: Portal, client: FlaskClient, writer: dict[str, str]
) -> None:
    family = _dupont(demo)
    before = _household(client, writer, family.id)["conjoint"]
    change = {"family_id": family.id, "section": "conjoint", "version": before["version"], "values": {"phone_home": "01 23 45 67 89"}}
    response = client.post("/api/v1/profile-changes", json=change, headers=writer)
    assert response.status_code == 200, response.json
    assert response.json == {"state": "applied", "request_id": None, "version": before["version"] + 1}
    after = _household(client, writer, family.id)["conjoint"]
    assert after == {**before, "phone_home": "01 23 45 67 89", "version": before["version"] + 1}
    # The same version again lost the race: nothing changed.
    again = client.post("/api/v1/profile-changes", json={**change, "values": {"phone_home": "0999999999"}}, headers=writer)
    assert again.status_code == 409
    assert _household(client, writer, family.id)["conjoint"]["phone_home"] == "01 23 45 67 89"


def test_an_erp_change_of_a_validated_section_waits_for_an_agent(
    demo: Portal, client: FlaskClient, writer: dict[str, str]
) -> None:
    from famille_core.entities import ChangeRequest

    family = _dupont(demo)
    fiscal = _household(client, writer, family.id)["fiscal"]
    change = {"family_id": family.id, "section": "fiscal", "version": fiscal["version"], "values": {"tax_shares": "2,5"}}
    body = client.post("/api/v1/profile-changes", json=change, headers=writer).json
    assert body["state"] == "pending" and body["request_id"]
    with demo.unit_of_work() as uow:
        request = uow.get(ChangeRequest, body["request_id"])
        assert request is not None and request.state == "pending" and request.section == "fiscal"
    assert _household(client, writer, family.id)["fiscal"] == fiscal


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"section": "conjoint", "values": {"email": "pas-un-email"}}, 422, "email"),
        ({"section": "banque", "values": {"holder": "X"}}, 422, "section"),
        ({"section": "conjoint", "values": {"solde": "0"}}, 422, None),
    ],
)
def test_an_erp_change_the_form_would_refuse_is_refused(
    demo: Portal, client: FlaskClient, writer: dict[str, str], change: dict[str, Any], status: int, field: str | None
) -> None:
    family = _dupont(demo)
    before = _household(client, writer, family.id)
    version = (before["conjoint"] or {}).get("version", 0)
    response = client.post("/api/v1/profile-changes", json={"family_id": family.id, "version": version, **change}, headers=writer)
    assert response.status_code == status
    assert response.json["errors"][0]["field"] == field
    assert _household(client, writer, family.id) == before
