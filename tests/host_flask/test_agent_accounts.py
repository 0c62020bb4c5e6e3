"""An account is an agent's or a household member's, never both (finding 21, docs/security.md
point 10): agents see every household, so an agent account attached to a household would read
any household's invoices, messages and children through the family pages. Such an account is
refused at creation (service, CLI), at login (with a logged reason), and an agent never reaches
the family pages, whatever the stored account says."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal, notify_family
from famille_core.entities import Actor, Child, Family, Invoice, Role, User
from famille_core.errors import ValidationFailed
from famille_core.services.accounts import create_user
from tests.conftest import login
from tests.host_flask.test_cli import run

PASSWORD = "une phrase de passe assez longue"


def _family(portal: Portal, name: str) -> int:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name=name)
        assert family is not None and family.id is not None
        return family.id


@pytest.mark.parametrize(("role", "attached"), [(Role.AGENT, "family_id"), (Role.ADMIN, "guardian_id")])
def test_creating_an_agent_attached_to_a_household_is_refused(demo: Portal, role: Role, attached: str) -> None:
    with demo.unit_of_work() as uow:
        with pytest.raises(ValidationFailed) as refused:
            create_user(demo, uow, email="double@example.org", password=PASSWORD, role=role,
                        display_name="Agent et parent", service="ENFANCE", **{attached: _family(demo, "DUPONT")})
        assert refused.value.issues[0].code == "agent_in_household"
        assert "deux comptes" in refused.value.issues[0].message
        assert uow.first(User, email="double@example.org") is None


def test_the_command_line_refuses_it_too(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    assert run(instance, "init").returncode == 0
    assert run(instance, "demo").returncode == 0
    result = run(instance, "create-user", "--email", "double@example.org", "--role", "agent", "--name", "A",
                 "--service", "ENFANCE", "--family-number", "694504900001", "--password", PASSWORD)
    assert result.returncode != 0
    assert "Un compte agent ne peut pas être rattaché à une famille" in result.stderr
    assert "Traceback" not in result.stderr


def _attach_agent_to(portal: Portal, family_id: int) -> None:
    """What an import or a hand-edited database could leave: the agent attached to a household."""
    with portal.unit_of_work() as uow:
        agent = uow.first(User, email="agent@example.org")
        assert agent is not None
        agent.family_id = family_id
        uow.commit()


def test_a_stored_agent_attached_to_a_household_cannot_log_in(
    demo: Portal, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    _attach_agent_to(demo, _family(demo, "DUPONT"))
    caplog.set_level(logging.INFO)
    client = app.test_client()
    response = login(client, "agent@example.org", "agent-demo-password")
    assert response.status_code != 302 or "/connexion" in response.headers["Location"]
    assert client.get("/").status_code == 302  # still anonymous: sent to the login page
    refused = [r for r in caplog.records if r.getMessage() == "login refused: agent account attached to a household"]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert getattr(refused[0], "user_id", None) is not None
    assert "agent@example.org" not in refused[0].getMessage()


def test_a_session_opened_before_the_account_was_attached_reads_no_household(
    demo: Portal, agent_client: FlaskClient
) -> None:
    martin = _family(demo, "MARTIN")
    with demo.unit_of_work() as uow:
        invoice = uow.first(Invoice, family_id=martin)
        hugo = uow.first(Child, first_name="Hugo")
        assert invoice is not None and hugo is not None
        message_id = notify_family(demo, uow, martin, "Confidentiel MARTIN", "Texte réservé au foyer MARTIN.")
        uow.commit()
        invoice_id, invoice_number, hugo_id = invoice.id, invoice.number, hugo.id
    _attach_agent_to(demo, _family(demo, "DUPONT"))
    for path, secret in ((f"/factures/{invoice_id}", invoice_number),
                         (f"/messages/{message_id}", "Confidentiel MARTIN"),
                         (f"/compte/enfants/{hugo_id}/", "Hugo"),
                         ("/factures/", invoice_number),
                         ("/compte/", "MARTIN")):
        response = agent_client.get(path)
        assert response.status_code == 404, path
        assert secret not in response.get_data(as_text=True), path
    # The agents' own pages still work for this session.
    assert agent_client.get("/gestion/familles/").status_code == 200


def test_an_agent_actor_never_carries_a_household(demo: Portal) -> None:
    with pytest.raises(ValueError, match="never for a household"):
        Actor(user_id=1, role=Role.AGENT, family_id=_family(demo, "DUPONT"))
    with demo.unit_of_work() as uow:
        agent = uow.first(User, email="agent@example.org")
        assert agent is not None
        agent.family_id = _family(demo, "DUPONT")
        assert agent.mixes_roles
        assert Actor.for_user(agent).family_id is None
