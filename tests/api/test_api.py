"""The JSON API for ERPs: tokens and scopes, upserts, pagination, problem details, event feed."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core.entities import Family
from famille_core.services.api_clients import revoke_client
from tests.api.conftest import make_token

FAMILY = {
    "external_id": "ERP-900",
    "family_number": "900900",
    "name": "LEROY",
    "responsable": {"last_name": "LEROY", "first_name": "Anne", "email": "anne@example.org"},
}


def test_token_without_the_scope_gets_403(demo, client: FlaskClient) -> None:
    token = make_token(demo, "lecture", ["families:read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/families", headers=headers).status_code == 200
    response = client.post("/api/v1/families", json=FAMILY, headers=headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "families:write" in response.json["detail"]
    with demo.unit_of_work() as uow:
        assert uow.first(Family, external_id="ERP-900") is None


def test_revoked_token_gets_401(
    demo, client: FlaskClient, token: str, auth: dict[str, str]
) -> None:
    assert client.get("/api/v1/families", headers=auth).status_code == 200
    with demo.unit_of_work() as uow:
        revoke_client(demo, uow, "erp")
        uow.commit()
    response = client.get("/api/v1/families", headers=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_or_missing_token_gets_401(demo, client: FlaskClient) -> None:
    assert client.get("/api/v1/families").status_code == 401
    assert (
        client.get("/api/v1/families", headers={"Authorization": "Bearer fam_nope"}).status_code
        == 401
    )


def test_a_cookie_session_cannot_call_the_api(
    parent_client: FlaskClient, agent_client: FlaskClient
) -> None:
    for client in (parent_client, agent_client):
        response = client.get("/api/v1/families")
        assert response.status_code == 401
        assert "Les cookies ne sont pas acceptés" in response.json["detail"]


def test_tokens_are_stored_hashed(demo, token: str) -> None:
    from famille_core.entities import ApiClient

    with demo.unit_of_work() as uow:
        stored = uow.first(ApiClient, name="erp")
        assert (
            stored is not None and token not in stored.token_hash and len(stored.token_hash) == 64
        )


def test_upsert_twice_gives_the_same_rows(demo, client: FlaskClient, auth: dict[str, str]) -> None:
    first = client.post("/api/v1/families", json=FAMILY, headers=auth)
    assert first.status_code == 200 and first.json["outcome"] == "created"
    second = client.post("/api/v1/families", json=FAMILY, headers=auth)
    assert second.json == {"id": first.json["id"], "outcome": "unchanged"}
    changed = client.post("/api/v1/families", json={**FAMILY, "name": "LEROY-MARTIN"}, headers=auth)
    assert changed.json["outcome"] == "updated"


def test_validation_errors_are_problem_details_per_field(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/families", json={"external_id": "X", "name": "A", "family_id": 3}, headers=auth
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = {error["field"] for error in response.json["errors"]}
    assert "family_number" in fields
    assert any("family_id" in error["message"] for error in response.json["errors"])


def test_invoice_upsert_is_exact(demo, client: FlaskClient, auth: dict[str, str]) -> None:
    invoice = {
        "external_id": "FAC-1",
        "family": "ERP-694504900001",
        "number": "99990001",
        "reference": "2026-CA-11-0099",
        "issue_date": "2026-11-01",
        "due_date": "2026-11-30",
        "lines": [{"label": "Cantine", "quantity": "17", "unit_price": "4.15"}],
    }
    assert client.post("/api/v1/invoices", json=invoice, headers=auth).json["outcome"] == "created"
    listed = client.get("/api/v1/invoices?per_page=500", headers=auth).json["items"]
    mine = next(i for i in listed if i["external_id"] == "FAC-1")
    assert mine["total"] == "70.55" and mine["balance"] == "70.55"
    assert mine["lines"][0]["amount"] == "70.55"


def test_pagination(demo, client: FlaskClient, auth: dict[str, str]) -> None:
    page1 = client.get("/api/v1/families?per_page=3&page=1", headers=auth).json
    page2 = client.get("/api/v1/families?per_page=3&page=2", headers=auth).json
    assert page1["total"] == page2["total"] == 4
    assert len(page1["items"]) == 3 and len(page2["items"]) == 1
    assert {f["id"] for f in page1["items"]}.isdisjoint({f["id"] for f in page2["items"]})
    assert client.get("/api/v1/families?per_page=0", headers=auth).status_code == 400


def test_system_message_needs_an_inbox(demo, client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/messages",
        json={"family": "ERP-694504900001", "subject": "Cantine fermée", "body": "Vendredi."},
        headers=auth,
    )
    # With the inbox plugin a message is created (201); without one, the API says so.
    assert response.status_code in (201, 409)
    unknown = client.post(
        "/api/v1/messages", json={"family": "ERP-nope", "subject": "x", "body": "y"}, headers=auth
    )
    assert unknown.status_code == 422


def _all_events(client: FlaskClient, auth: dict[str, str], limit: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = 0
    while True:
        feed = client.get(f"/api/v1/events?after={cursor}&limit={limit}", headers=auth).json
        if not feed["items"]:
            return events
        events.extend(feed["items"])
        cursor = feed["next_cursor"]


def test_event_feed_returns_every_change_once_in_order_across_pages(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    before = _all_events(client, auth, 1000)
    client.post("/api/v1/families", json=FAMILY, headers=auth)
    client.post("/api/v1/families", json={**FAMILY, "name": "LEROY-BIS"}, headers=auth)
    client.post("/api/v1/families", json=FAMILY, headers=auth)
    paged = _all_events(client, auth, 7)
    ids = [event["id"] for event in paged]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert paged == _all_events(client, auth, 1000)
    new = paged[len(before) :]
    kinds = [(e["kind"], e["entity"]) for e in new]
    assert kinds == [
        ("profile.created", "family"),
        ("profile.created", "guardian"),
        ("profile.changed", "family"),
        ("profile.changed", "family"),
    ]
    assert all(e["family_id"] == new[0]["entity_id"] for e in new)
    # Each event says what changed (issue 16) and who changed it: the ERP's client.
    assert [c["field"] for c in new[1]["changes"]] == ["role", "last_name", "first_name", "email"]
    assert [e["changes"] for e in new[2:]] == [
        [{"field": "name", "sensitive": False, "old": "LEROY", "new": "LEROY-BIS"}],
        [{"field": "name", "sensitive": False, "old": "LEROY-BIS", "new": "LEROY"}],
    ]
    assert {(e["author"]["kind"], e["author"]["name"]) for e in new} == {("api_client", "erp")}


def test_openapi_document_describes_every_route(demo, client: FlaskClient, app) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    routes = {
        (rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented
    assert "FamilyRecord" in document["components"]["schemas"]


def test_filters(demo, client: FlaskClient, auth: dict[str, str]) -> None:
    found = client.get("/api/v1/families?external_id=ERP-694504900001", headers=auth).json
    assert [f["name"] for f in found["items"]] == ["DUPONT"]
    dupont = found["items"][0]["id"]
    invoices = client.get(f"/api/v1/invoices?family_id={dupont}", headers=auth).json["items"]
    assert {i["number"] for i in invoices} == {"99996880", "99996883", "99996884"}
    assert client.get("/api/v1/invoices?family_id=abc", headers=auth).status_code == 400


def test_nul_byte_in_a_text_is_a_field_error_not_a_server_error(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    family = {**FAMILY, "name": "LE\x00ROY"}
    response = client.post("/api/v1/families", json=family, headers=auth)
    assert response.status_code == 422
    assert {error["field"] for error in response.json["errors"]} == {"name"}
    with demo.unit_of_work() as uow:
        assert uow.first(Family, external_id="ERP-900") is None


@pytest.mark.parametrize(
    "query", ["events?after=2147483647", "invoices?family_id=2147483648", "events?after=-1"]
)
def test_identifiers_beyond_the_database_range_are_a_400_problem(
    demo, client: FlaskClient, auth: dict[str, str], query: str
) -> None:
    answer = client.get(f"/api/v1/{query}", headers=auth)
    assert answer.status_code == 400
    assert answer.json["type"].endswith("parametre-invalide")


def test_a_request_refused_before_the_api_views_is_still_a_problem_document(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    answer = client.get("/api/v1/families?external_id=%00x", headers=auth)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert answer.json["status"] == 400


def test_an_invoice_number_or_reference_already_taken_is_a_422_per_field(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    """Finding 17: a second invoice with the number of another one was a 500."""
    invoice = {
        "external_id": "FAC-1",
        "family": "ERP-694504900001",
        "number": "99990001",
        "reference": "2026-CA-11-0099",
        "issue_date": "2026-11-01",
        "due_date": "2026-11-30",
        "lines": [{"label": "Cantine", "quantity": "1", "unit_price": "4.15"}],
    }
    assert client.post("/api/v1/invoices", json=invoice, headers=auth).status_code == 200
    again = client.post(
        "/api/v1/invoices",
        json={**invoice, "external_id": "FAC-2", "reference": "2026-CA-11-0100"},
        headers=auth,
    )
    assert again.status_code == 422
    assert again.mimetype == "application/problem+json"
    assert [(e["field"], e["message"]) for e in again.json["errors"]] == [
        ("number", "Le numéro de facture 99990001 appartient déjà à une autre facture.")
    ]
    both = client.post("/api/v1/invoices", json={**invoice, "external_id": "FAC-3"}, headers=auth)
    assert {e["field"] for e in both.json["errors"]} == {"number", "reference"}
    # The invoice itself can still be sent again (an upsert keyed on external_id).
    assert client.post("/api/v1/invoices", json=invoice, headers=auth).json["outcome"] == "unchanged"


@pytest.mark.parametrize("depth", [200_000, 33])
def test_a_deeply_nested_body_is_a_400_problem(
    demo, client: FlaskClient, auth: dict[str, str], depth: int
) -> None:
    """Finding 17: a 200,000-deep JSON body exhausted the parser's stack (a 500)."""
    body = '{"external_id": ' + "[" * depth + "]" * depth + "}"
    response = client.post(
        "/api/v1/families", data=body, content_type="application/json", headers=auth
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "trop imbriqué" in response.json["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/families",
        json={**FAMILY, "name": "[" * 60 + '\\"{' * 40},
        headers=auth,
    )
    assert response.status_code == 200, response.json


def test_a_text_longer_than_its_column_is_a_422_on_every_database(
    demo, client: FlaskClient, auth: dict[str, str]
) -> None:
    """The API fuzzer found it on PostgreSQL: a long postal code was a 500 there."""
    family = {**FAMILY, "conjoint": {"last_name": "L", "first_name": "F", "postal_code": "7" * 11}}
    response = client.post("/api/v1/families", json=family, headers=auth)
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json["errors"]] == [
        ("conjoint.postal_code", "Ce champ dépasse 10 caractères.")
    ]
