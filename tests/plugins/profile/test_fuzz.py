"""Whatever a client sends to the profile forms gives a 4xx or a redirect, never a 5xx, and text
typed by a family comes back inert (docs/security.md points 14, 15)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famille_core import Portal
from famille_core.entities import Guardian, GuardianRole
from tests.conftest import csrf_token
from tests.plugins.profile.conftest import child_id, post_form

KEYS = st.sampled_from(
    ["last_name", "first_name", "birth_date", "phone_mobile", "email", "iban", "holder", "year",
     "reference_income", "tax_shares", "regime", "quotient", "diet", "has_pai", "vaccinations.0.date",
     "vaccinations.0.name", "family_id", "version", "x" * 60]
)
VALUES = st.one_of(st.text(max_size=60), st.sampled_from(["2023-02-30", "31/12/9999", "-1", "1e999", "NaN", "\x00", "0" * 40]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(KEYS, VALUES, max_size=8), target=st.sampled_from(
    ["/compte/responsable", "/compte/conjoint", "/compte/fiscal", "/compte/caf", "/compte/banque",
     "/compte/enfants/{lucas}/sanitaires", "/compte/enfants/{lucas}/complementaires",
     "/compte/enfants/{lucas}/autorisations/nouvelle"]))
def test_fuzzed_bodies_never_give_a_server_error(parent_client: FlaskClient, demo: Portal, body: dict[str, Any], target: str) -> None:
    path = target.format(lucas=child_id(demo, "Lucas"))
    token = csrf_token(parent_client, "/compte/")
    response = parent_client.post(path, data={"version": "1", **body, "csrf_token": token})
    assert response.status_code in (302, 400, 409, 422), (path, body, response.status_code)


def test_script_and_template_text_come_back_inert(parent_client: FlaskClient, demo: Portal) -> None:
    response = post_form(parent_client, "/compte/conjoint",
                         {"last_name": "<script>alert(1)</script>", "first_name": "{{7*7}}", "employer": "<b>x</b>"})
    assert response.status_code == 302
    page = parent_client.get("/compte/").get_data(as_text=True)
    assert "<script>" not in page.lower() and "&lt;script&gt;alert(1)" in page.lower()
    assert "{{7*7}}" in page and "49" not in page.split("Conjoint")[1].split("</section>")[0]
    assert "<b>x</b>" not in page


def test_machine_clients_get_structured_errors(parent_client: FlaskClient, demo: Portal) -> None:
    path = "/compte/conjoint"
    response = post_form(parent_client, path, {"last_name": "", "first_name": "Jean", "family_id": "3"},
                         headers={"Accept": "application/json"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"field": "last_name", "code": "required", "message": "Nom : ce champ est obligatoire."} in errors
    assert any(e["code"] == "unknown_field" for e in errors)
    stale = post_form(parent_client, path, {"last_name": "D", "first_name": "J", "version": "99"},
                      headers={"Accept": "application/json"})
    assert stale.status_code == 409 and stale.get_json()["errors"][0]["code"] == "conflict"
    with demo.unit_of_work() as uow:
        assert uow.first(Guardian, role=GuardianRole.SECOND).last_name == "DUPONT"  # type: ignore[union-attr]
