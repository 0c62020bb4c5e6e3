"""The ERP round trip (issue 16): the ERP loads the families (API and CSV), a parent edits a
phone, the tax data (accepted by an agent), the bank details and a child's allergy in the
portal; the ERP reads the feed from its last cursor and gets exactly those changes, in order,
with their values or "changed" for the sensitive ones, and who made each; with ``bank:read`` and
``health:read`` it reads the sensitive values, and an audit row records each read."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import (
    AuditRecord,
    Child,
    FiscalData,
    Guardian,
    GuardianRole,
    HealthRecord,
    User,
)
from famille_core.services.imports import import_rows, read_rows
from famille_plugins.profile.services import records
from famille_plugins.profile.services.sections import section_specs
from famille_plugins.profile.web import record_values
from tests.api.conftest import make_token
from tests.conftest import csrf_token

IBAN = "FR1420041010050500013M02606"
CSV = "external_id,family_number,name,responsable.last_name,responsable.first_name,responsable.phone_mobile\nERP-CSV-1,777001,ROUX,ROUX,Léon,06 01 02 03 04\n"


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    """Tax data wait for an agent; the bank details are applied at once."""
    return {**settings_data, "plugins": {"profile": {"validated_sections": ["fiscal"]}}}


def _form(portal: Portal, section: str, record: Any, **changes: str) -> dict[str, str]:
    """What the form of ``section`` sends when a parent changes ``changes`` and nothing else."""
    shown = record_values(section_specs(portal, section), record)
    for index, vaccination in enumerate(getattr(record, "vaccinations", []) if section == "sanitaires" else []):
        shown |= {f"vaccinations.{index}.name": vaccination.name, f"vaccinations.{index}.date": vaccination.date.isoformat()}
    return {**shown, **changes}


def _post(client: FlaskClient, path: str, data: dict[str, str], version: int) -> None:
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, path), "version": str(version)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def _feed(client: FlaskClient, headers: dict[str, str], after: int) -> tuple[list[dict[str, Any]], int]:
    """Every event after ``after``, read a page of two at a time, and the last cursor."""
    events: list[dict[str, Any]] = []
    while True:
        body = client.get(f"/api/v1/events?after={after}&limit=2", headers=headers).json
        if not body["items"]:
            return events, after
        events += body["items"]
        after = body["next_cursor"]


def test_the_erp_gets_every_change_a_parent_makes_once_in_order(
    demo: Portal, client: FlaskClient, parent_client: FlaskClient, agent_client: FlaskClient
) -> None:
    erp = {"Authorization": f"Bearer {make_token(demo, 'erp', ['families:read', 'families:write', 'events:read'])}"}
    # First full load: the ERP pushes its families through the API and a CSV file, reads them back.
    with demo.unit_of_work() as uow:
        dupont = uow.first(Guardian, role=GuardianRole.PRIMARY, email="parent@example.org")
        assert dupont is not None
        family_id = dupont.family_id
        emma = uow.first(Child, first_name="Emma")
        agent = uow.first(User, email="agent@example.org")
        assert emma is not None and agent is not None
    pushed = {"external_id": "ERP-API-1", "family_number": "777002", "name": "NOEL",
              "responsable": {"last_name": "NOEL", "first_name": "Ada", "phone_mobile": "0605040302"}}
    assert client.post("/api/v1/families", json=pushed, headers=erp).json["outcome"] == "created"
    with demo.unit_of_work() as uow:
        report = import_rows(demo, uow, "families", read_rows("families", CSV, "csv"))
        uow.commit()
    assert report.counts["created"] == 1 and not report.errors
    households = client.get("/api/v1/households?per_page=500", headers=erp).json["items"]
    assert {"ERP-API-1", "ERP-CSV-1"} <= {h["external_id"] for h in households}
    _loaded, cursor = _feed(client, erp, 0)

    # The parent edits a phone, the tax data (a request), the bank details and an allergy.
    with demo.unit_of_work() as uow:
        guardian = records.load_family_record(uow, family_id, "responsable")
        fiscal = records.load_family_record(uow, family_id, "fiscal")
        bank = records.load_family_record(uow, family_id, "banque")
        health = uow.first(HealthRecord, child_id=emma.id)
    old_phone = guardian.phone_mobile
    _post(parent_client, "/compte/responsable", _form(demo, "responsable", guardian, phone_mobile="07 70 70 70 70"), guardian.version)
    _post(parent_client, "/compte/fiscal", _form(demo, "fiscal", fiscal, reference_income="36000,00"), fiscal.version)
    _post(parent_client, "/compte/banque", _form(demo, "banque", bank, iban=IBAN), bank.version)
    _post(parent_client, f"/compte/enfants/{emma.id}/sanitaires",
          _form(demo, "sanitaires", health, food_allergies="Arachide, kiwi"), health.version)
    # The agent accepts the tax data.
    with demo.unit_of_work() as uow:
        from famille_core.entities import ChangeRequest

        request = uow.first(ChangeRequest, family_id=family_id, state="pending")
        assert request is not None
    path = f"/gestion/familles/demandes/{request.id}"
    response = agent_client.post(path, data={"csrf_token": csrf_token(agent_client, path), "decision": "accepter"})
    assert response.status_code == 302

    events, cursor = _feed(client, erp, cursor)
    told = [e for e in events if e["kind"] != "message.sent"]  # the notices to the family
    assert [(e["entity"], e["kind"]) for e in told] == [
        ("guardian", "profile.changed"),
        ("bank_details", "profile.changed"),
        ("health_record", "profile.changed"),
        ("fiscal_data", "profile.changed"),
        ("change_request", "change_request.decided"),
    ]
    phone, bank_event, health_event, tax, decision = told
    assert phone["changes"] == [{"field": "phone_mobile", "sensitive": False, "old": old_phone, "new": "07 70 70 70 70"}]
    assert phone["family_id"] == family_id
    assert bank_event["changes"] == [{"field": "iban", "sensitive": True, "old": None, "new": None}]
    assert health_event["changes"] == [{"field": "food_allergies", "sensitive": True, "old": None, "new": None}]
    assert tax["changes"] == [{"field": "reference_income", "sensitive": False, "old": "42000.00", "new": "36000.00"}]
    assert IBAN not in str(events) and "Arachide" not in str(events)
    parent_author = {"kind": "parent", "id": dupont_user_id(demo), "name": ""}
    assert [e["author"] for e in told[:3]] == [parent_author] * 3
    agent_author = {"kind": "agent", "id": agent.id, "name": agent.display_name}
    assert tax["author"] == decision["author"] == agent_author
    assert decision["payload"] == {"section": "fiscal", "state": "approved"}
    # Each change once: read again from the same cursor, nothing new.
    assert _feed(client, erp, cursor) == ([], cursor)

    # With their scopes, the ERP reads the sensitive values; each read is audited.
    secrets = {"Authorization": f"Bearer {make_token(demo, 'erp-secrets', ['bank:read', 'health:read'])}"}
    bank_rows = client.get(f"/api/v1/bank-details?family_id={family_id}", headers=secrets).json["items"]
    assert [row["iban"] for row in bank_rows] == [IBAN]
    health_rows = client.get(f"/api/v1/health-records?child_id={emma.id}", headers=secrets).json["items"]
    assert [row["food_allergies"] for row in health_rows] == ["Arachide, kiwi"]
    with demo.unit_of_work() as uow:
        audits = uow.find(AuditRecord, action="read", order_by=("id",))
        fiscal_now = uow.first(FiscalData, family_id=family_id, order_by=("-year",))
    api_reads = [(a.record_type, a.record_id) for a in audits if a.api_client_id is not None]
    assert api_reads == [("bank_details", bank_event["entity_id"]), ("health_record", health_event["entity_id"])]
    assert fiscal_now is not None and str(fiscal_now.reference_income) == "36000.00"


def dupont_user_id(portal: Portal) -> int | None:
    """The demo parent's user id."""
    with portal.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        return user.id if user else None
