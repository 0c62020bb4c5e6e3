"""One validation for every entrance (issue 16): the form of Mon compte, the API's upsert and the
CSV import refuse the same bad values of a guardian with the same French message; the import's
dry run names the line and the field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Guardian, GuardianRole
from famille_core.services.imports import import_batches, read_rows
from famille_plugins.profile.services.sections import section_specs
from famille_plugins.profile.web import record_values
from tests.conftest import csrf_token

BAD_VALUES = [
    ("email", "pas-un-email", "Adresse e-mail : Adresse e-mail invalide (exemple : nom@domaine.fr)."),
    ("phone_mobile", "abc", "Téléphone portable : Numéro de téléphone invalide : 10 chiffres (ou +33…)."),
    ("postal_code", "ABCDE", "Code postal : Le code postal compte 5 chiffres."),
    ("civility", "Sa Majesté", "Civilité : Choisissez une des valeurs proposées."),
]


def _form_message(portal: Portal, client: FlaskClient, field: str, value: str) -> list[tuple[str, str]]:
    with portal.unit_of_work() as uow:
        guardian = uow.first(Guardian, role=GuardianRole.PRIMARY, email="parent@example.org")
        assert guardian is not None
    data = {**record_values(section_specs(portal, "responsable"), guardian), field: value}
    data |= {"csrf_token": csrf_token(client, "/compte/responsable"), "version": str(guardian.version)}
    response = client.post("/compte/responsable", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 422
    return [(e["field"], e["message"]) for e in response.json["errors"]]


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_form_api_and_import_refuse_the_same_value_with_the_same_message(
    demo: Portal, client: FlaskClient, parent_client: FlaskClient, auth: dict[str, str], field: str, value: str, message: str
) -> None:
    # The portal's form.
    assert _form_message(demo, parent_client, field, value) == [(field, message)]
    # The API.
    family = {
        "external_id": "ERP-901",
        "family_number": "901901",
        "name": "LEROY",
        "responsable": {"last_name": "LEROY", "first_name": "Anne", field: value},
    }
    response = client.post("/api/v1/families", json=family, headers=auth)
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json["errors"]] == [(f"responsable.{field}", message)]
    # The CSV import's dry run: the line and the field; nothing written.
    csv = (
        "external_id,family_number,name,responsable.last_name,responsable.first_name,responsable." + field + "\n"
        "ERP-902,902902,MOREAU,MOREAU,Paul,\n"
        f"ERP-903,903903,LEROY,LEROY,Anne,{value}\n"
    )
    report = import_batches(demo, "families", read_rows("families", csv, "csv"), dry_run=True)
    assert report.counts["created"] == 1 and report.counts["rejected"] == 1
    assert [(e.line, e.field, e.message) for e in report.errors] == [(3, f"responsable.{field}", message)]
