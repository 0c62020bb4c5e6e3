"""Separated parents (finding 16): Léa belongs to the MARTIN and BERNARD households. Her health
record and details are one record; a change by one household is told to the other, without the
health data, whether applied at once or approved by an agent."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import ChangeRequest, Family, HealthRecord, Message
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import logged_in
from tests.plugins.profile.conftest import child_id, post_form

NOTICE = "Fiche de Léa modifiée par l'autre foyer : Données sanitaires"
HEALTH_FROM_MARTIN = {"doctor_name": "Dr Lefèvre", "food_allergies": "Arachide (choc anaphylactique)",
                      "has_pai": "on", "pai_details": "Stylo d'adrénaline dans le sac"}
HEALTH_FROM_BERNARD = {"doctor_name": "Dr Bernard"}


@pytest.fixture
def martin(demo: Portal, app: Flask) -> FlaskClient:
    return logged_in(app, "martin@example.org", "martin-demo-password")


@pytest.fixture
def bernard(demo: Portal, app: Flask) -> FlaskClient:
    return logged_in(app, "bernard@example.org", "bernard-demo-password")


def _notices(portal: Portal, household: str) -> list[Message]:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name=household)
        assert family is not None
        return [m for m in uow.find(Message, family_id=family.id, is_system=True, order_by=("id",))
                if m.subject.startswith("Fiche de ")]


def _text(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True).replace("&#39;", "'")


def test_a_health_change_by_one_household_is_told_to_the_other_without_the_data(
    martin: FlaskClient, bernard: FlaskClient, demo: Portal
) -> None:
    lea = child_id(demo, "Léa")
    path = f"/compte/enfants/{lea}/sanitaires"
    assert post_form(martin, path, HEALTH_FROM_MARTIN).status_code == 302
    # BERNARD is told of MARTIN's entry; MARTIN, who made it, is not.
    assert [m.subject for m in _notices(demo, "BERNARD")] == [NOTICE]
    assert _notices(demo, "MARTIN") == []
    # BERNARD's save (the allergy and the PAI left empty) rewrites the shared record...
    assert post_form(bernard, path, HEALTH_FROM_BERNARD).status_code == 302
    with demo.unit_of_work() as uow:
        health = uow.first(HealthRecord, child_id=lea)
        assert health is not None and health.food_allergies == "" and not health.has_pai
    # ...and MARTIN now knows, in the inbox, and reads the current record on Léa's page.
    (notice,) = _notices(demo, "MARTIN")
    assert notice.subject == NOTICE
    for secret in ("Arachide", "adrénaline", "Dr Bernard", "Dr Lefèvre"):
        assert secret not in notice.body
    assert "Mes enfants" in notice.body
    inbox = _text(martin, "/messages/")
    assert NOTICE in inbox
    opened = _text(martin, f"/messages/{notice.id}")
    assert "depuis l'autre foyer" in opened and "Arachide" not in opened
    for client in (martin, bernard):
        page = _text(client, f"/compte/enfants/{lea}/")
        assert "Dr Bernard" in page and "Arachide" not in page
    # Saving the same values again changes nothing and tells nobody.
    assert post_form(bernard, path, HEALTH_FROM_BERNARD).status_code == 302
    assert len(_notices(demo, "MARTIN")) == 1


def test_a_child_of_one_household_tells_nobody(parent_client: FlaskClient, demo: Portal) -> None:
    emma = child_id(demo, "Emma")
    assert post_form(parent_client, f"/compte/enfants/{emma}/sanitaires", HEALTH_FROM_MARTIN).status_code == 302
    with demo.unit_of_work() as uow:
        assert [m for m in uow.find(Message) if m.subject.startswith("Fiche de ")] == []


def test_details_change_is_told_too(martin: FlaskClient, demo: Portal) -> None:
    lea = child_id(demo, "Léa")
    response = post_form(martin, f"/compte/enfants/{lea}/complementaires", {"diet": "sans_porc"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [m.subject for m in _notices(demo, "BERNARD")] == [
        "Fiche de Léa modifiée par l'autre foyer : Données complémentaires"
    ]


class TestWhenTheTownValidatesHealthChanges:
    """``validated_sections = ["sanitaires"]``: nothing changes until an agent approves; the
    other household is told once the change is applied."""

    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "plugins": {"profile": {"validated_sections": ["sanitaires"]}}}

    def test_the_other_household_is_told_when_the_agent_approves(
        self, martin: FlaskClient, bernard: FlaskClient, agent_client: FlaskClient, demo: Portal
    ) -> None:
        lea = child_id(demo, "Léa")
        assert post_form(bernard, f"/compte/enfants/{lea}/sanitaires", HEALTH_FROM_BERNARD).status_code == 302
        assert _notices(demo, "MARTIN") == []
        assert "Dr Bernard" not in _text(martin, f"/compte/enfants/{lea}/")
        assert "en attente de validation" in _text(bernard, f"/compte/enfants/{lea}/")
        with demo.unit_of_work() as uow:
            request = uow.first(ChangeRequest, state="pending")
            assert request is not None
            path = f"/gestion/familles/demandes/{request.id}"
        decided = agent_client.post(path, data={"csrf_token": csrf_token(agent_client, path), "decision": "accepter"})
        assert decided.status_code == 302
        assert [m.subject for m in _notices(demo, "MARTIN")] == [NOTICE]
        assert _notices(demo, "BERNARD") == []
        assert "Dr Bernard" in _text(martin, f"/compte/enfants/{lea}/")


def test_a_new_photo_is_told_too(martin: FlaskClient, demo: Portal) -> None:
    import io

    from PIL import Image

    lea = child_id(demo, "Léa")
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (20, 90, 200)).save(out, format="JPEG")
    path = f"/compte/enfants/{lea}/photo"
    response = martin.post(path, data={"csrf_token": csrf_token(martin, path), "version": "1",
                                       "photo": (io.BytesIO(out.getvalue()), "lea.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [m.subject for m in _notices(demo, "BERNARD")] == ["Fiche de Léa modifiée par l'autre foyer : Photo"]
