"""A town that validates authorised persons: additions and removals wait for an agent."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import AuthorizedPerson, CafInfo, CafRegime, ChangeRequest
from tests.conftest import csrf_token
from tests.plugins.profile.conftest import child_id, post_form


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"profile": {"validated_sections": ["autorisations"]}}}


def _decide(agent: FlaskClient, portal: Portal, decision: str) -> Any:
    with portal.unit_of_work() as uow:
        request = uow.first(ChangeRequest, state="pending")
        assert request is not None
        request_id = request.id
    return agent.post(f"/gestion/familles/demandes/{request_id}",
                      data={"csrf_token": csrf_token(agent, "/gestion/familles/demandes"), "decision": decision})


def test_adding_then_removing_a_person_goes_through_the_agent(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    lucas = child_id(demo, "Lucas")
    post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/nouvelle",
              {"last_name": "LEROY", "first_name": "Anne", "phone": "0611223344", "may_pick_up": "on"})
    with demo.unit_of_work() as uow:
        assert uow.count(AuthorizedPerson, last_name="LEROY") == 0
    assert "en attente de validation" in parent_client.get(f"/compte/enfants/{lucas}/").get_data(as_text=True)
    assert _decide(agent_client, demo, "accepter").status_code == 302
    with demo.unit_of_work() as uow:
        person = uow.first(AuthorizedPerson, last_name="LEROY")  # the demo has Emma's grandmother
        assert person is not None and person.last_name == "LEROY" and person.may_pick_up
        pid, version = person.id, person.version
    parent_client.post(f"/compte/enfants/{lucas}/autorisations/{pid}/supprimer",
                       data={"csrf_token": csrf_token(parent_client, "/compte/"), "version": str(version)})
    with demo.unit_of_work() as uow:
        assert uow.get(AuthorizedPerson, pid) is not None
    assert _decide(agent_client, demo, "accepter").status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.get(AuthorizedPerson, pid) is None


def test_caf_section_is_applied_at_once_when_not_validated(parent_client: FlaskClient, demo: Portal) -> None:
    response = post_form(parent_client, "/compte/caf", {"regime": "MSA", "allocataire_number": "7654321", "quotient": "650"})
    assert response.status_code == 302
    with demo.unit_of_work() as uow:
        caf = uow.first(CafInfo)
        assert caf is not None and caf.regime is CafRegime.MSA and caf.quotient == 650
    assert "MSA" in parent_client.get("/compte/").get_data(as_text=True)
