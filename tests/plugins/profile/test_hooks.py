"""A collectivity adds a field and a rule through ``profile_fields`` and
``validate_profile_change``, without touching the plugin."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Issue, Portal, hookimpl
from famille_core.entities import Actor, ProfileExtraValue
from famille_core.hooks.results import ProfileField
from tests.plugins.profile.conftest import child_id, post_form


class Harmonie:
    """The town asks for the school card number and caps tax shares at 10."""

    @hookimpl
    def profile_fields(self, portal: Portal, section: str) -> Sequence[ProfileField]:
        if section == "complementaires":
            return [ProfileField(name="school_card", label="Numéro de carte de cantine", required=True)]
        return []

    @hookimpl
    def validate_profile_change(self, portal: Portal, section: str, changes: dict[str, Any], actor: Actor) -> Sequence[Issue]:
        if section == "fiscal" and changes.get("tax_shares", Decimal(0)) > 10:
            return [Issue("too_many_shares", "Plus de 10 parts : adressez-vous à la mairie.", "tax_shares")]
        return []


@pytest.fixture
def extra_plugins() -> list[object]:
    return [Harmonie()]


def test_added_field_is_asked_checked_stored_and_shown(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    path = f"/compte/enfants/{lucas}/complementaires"
    form = parent_client.get(path).get_data(as_text=True)
    assert 'name="extra_school_card"' in form and "Numéro de carte de cantine" in form
    missing = post_form(parent_client, path, {"diet": "standard"})
    assert missing.status_code == 422 and 'href="#f-extra_school_card"' in missing.get_data(as_text=True)
    ok = post_form(parent_client, path, {"diet": "sans_porc", "extra_school_card": "C-4521"})
    assert ok.status_code == 302
    with demo.unit_of_work() as uow:
        rows = uow.find(ProfileExtraValue, child_id=lucas)
        assert [(r.section, r.name, r.value) for r in rows] == [("complementaires", "school_card", "C-4521")]
    assert "C-4521" in parent_client.get(f"/compte/enfants/{lucas}/").get_data(as_text=True)
    assert 'value="C-4521"' in parent_client.get(path).get_data(as_text=True)
    again = post_form(parent_client, path, {"diet": "sans_porc", "extra_school_card": "C-9999"})
    assert again.status_code == 302
    with demo.unit_of_work() as uow:
        assert [r.value for r in uow.find(ProfileExtraValue, child_id=lucas)] == ["C-9999"]
    assert "C-9999" in parent_client.get("/compte/mes-donnees.json").get_data(as_text=True)


def test_added_rule_vetoes_a_change_with_a_field_message(parent_client: FlaskClient) -> None:
    response = post_form(parent_client, "/compte/fiscal", {"year": "2025", "reference_income": "50000", "tax_shares": "12"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Plus de 10 parts" in page and 'href="#f-tax_shares"' in page
