"""Mon compte and Mes enfants through the web pages, as the demo parent and agent."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Guardian, GuardianRole
from tests.conftest import csrf_token


def _conjoint(portal: Portal) -> dict[str, object]:
    with portal.unit_of_work() as uow:
        guardian = uow.first(Guardian, role=GuardianRole.SECOND)
        assert guardian is not None
        return {"version": guardian.version, "phone_mobile": guardian.phone_mobile}


def test_parent_sees_every_section_of_mon_compte_with_the_iban_masked(parent_client: FlaskClient) -> None:
    page = parent_client.get("/compte/").get_data(as_text=True)
    for title in ("Responsable", "Conjoint", "Données fiscales", "C.A.F.", "Coordonnées bancaires"):
        assert title in page
    assert "1\u202f166,67\u00a0€" in page  # 42 000 / 12 / 3 parts
    assert "FR76 **** **** **** **** ***0 189" in page
    assert "FR7630006000011234567890189" not in page


def test_parent_edits_the_conjoint_phone(parent_client: FlaskClient, demo: Portal) -> None:
    before = _conjoint(demo)
    form = parent_client.get("/compte/conjoint").get_data(as_text=True)
    assert 'value="06 98 76 54 32"' in form
    data = {
        "csrf_token": csrf_token(parent_client, "/compte/conjoint"),
        "version": str(before["version"]),
        "civility": "Monsieur",
        "last_name": "DUPONT",
        "first_name": "Jean",
        "phone_mobile": "07 11 22 33 44",
    }
    response = parent_client.post("/compte/conjoint", data=data)
    assert response.status_code == 302
    assert _conjoint(demo)["phone_mobile"] == "07 11 22 33 44"
    assert "07 11 22 33 44" in parent_client.get("/compte/").get_data(as_text=True)


def test_diet_options_are_neutral(parent_client: FlaskClient, demo: Portal) -> None:
    from tests.plugins.profile.conftest import child_id

    form = parent_client.get(f"/compte/enfants/{child_id(demo, 'Lucas')}/complementaires").get_data(as_text=True)
    options = re.findall(r"<option value=\"([^\"]*)\"[^>]*>([^<]*)</option>", form)
    assert [label for _code, label in options] == ["Menu standard", "Sans porc", "Sans viande", "Végétarien"]
    for word in ("halal", "casher", "kasher", "religi", "confession"):
        assert word not in form.lower()


def test_parent_sees_children_and_can_choose_one(parent_client: FlaskClient) -> None:
    page = parent_client.get("/compte/enfants/").get_data(as_text=True)
    assert "Lucas DUPONT" in page and "Emma DUPONT" in page and "Hugo" not in page and "Léa" not in page
