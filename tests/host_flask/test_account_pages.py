"""The agents' "Comptes" pages (issue 15): who may open them, what each action does, and the
audit of every action with the agent's name (docs/security.md points 6, 10, 25)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import AuditRecord, Role, User
from famille_core.services.account_admin import AccountState, state_of
from host_flask import cli
from tests.conftest import csrf_token, login
from tests.host_flask.test_invitations import CLAIRE, activate, activation_code
from tests.mail_helpers import sent_emails, text_of


def _account_id(portal: Portal, email: str) -> int:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email=email)
        assert user is not None and user.id is not None
        return user.id


def _account_routes(app: Flask, user_id: int) -> list[tuple[str, str, str]]:
    """Every page and action of the ``accounts`` blueprint, with a real account's id."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("accounts."):
            url = rule.rule.replace("<int:user_id>", str(user_id))
            for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, url, method))
    return found


def test_agents_without_the_right_role_get_404_on_every_account_page_and_action(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    """Magnus (an ENFANCE agent, not an administrator, ENFANCE not in account_services)."""
    marie = _account_id(demo, "parent@example.org")
    routes = _account_routes(app, marie)
    assert len(routes) >= 10
    token = csrf_token(agent_client, "/")
    for endpoint, url, method in routes:
        data = {"csrf_token": token} if method == "POST" else None
        answer = agent_client.open(url, method=method, data=data)
        assert answer.status_code == 404, (endpoint, method, answer.status_code)
    with demo.unit_of_work() as uow:
        assert uow.count(AuditRecord, actor_user_id=_account_id(demo, "agent@example.org")) == 0
        assert uow.get(User, marie).is_active  # type: ignore[union-attr]
    assert "/gestion/comptes/" not in agent_client.get("/").get_data(as_text=True)  # no menu entry


@pytest.fixture
def settings_data(settings_data: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    services = getattr(request, "param", ())
    return {**settings_data, "portal": {**settings_data["portal"], "account_services": list(services)}}


@pytest.mark.parametrize("settings_data", [("ENFANCE",)], indirect=True)
def test_agents_of_an_account_service_manage_accounts_but_create_no_agent(
    demo: Portal, agent_client: FlaskClient
) -> None:
    page = agent_client.get("/gestion/comptes/?q=dupont")
    assert page.status_code == 200
    assert "Marie DUPONT" in page.get_data(as_text=True)
    assert agent_client.get("/gestion/comptes/agents/nouveau").status_code == 404


def test_search_shows_each_accounts_state(demo: Portal, admin_client: FlaskClient) -> None:
    page = admin_client.get("/gestion/comptes/").get_data(as_text=True)
    assert "<h1>Comptes</h1>" in page and ">Inviter<" in page
    rows = dict(re.findall(r'">([^<]+)</a></td>.*?data-label="État">([^<]+)</td>', page, re.S))
    assert rows["Claire PETIT"] == "invité"
    assert rows["Marie DUPONT"] == "actif"
    petit = admin_client.get("/gestion/comptes/?q=694504900004").get_data(as_text=True)
    assert "Claire PETIT" in petit and "Marie DUPONT" not in petit


def _post(client: FlaskClient, url: str) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, "/gestion/comptes/")})


def test_every_account_action_is_audited_with_the_agents_name(
    demo: Portal, app: Flask, admin_client: FlaskClient
) -> None:
    marie_client = app.test_client()
    assert login(marie_client, "parent@example.org", "parent-demo-password").status_code == 302
    marie = _account_id(demo, "parent@example.org")
    claire = _account_id(demo, CLAIRE)
    admin = _account_id(demo, "admin@example.org")

    assert _post(admin_client, f"/gestion/comptes/{marie}/fin-des-sessions").status_code == 302
    assert marie_client.get("/").status_code == 302  # logged out
    assert login(marie_client, "parent@example.org", "parent-demo-password").status_code == 302
    assert _post(admin_client, f"/gestion/comptes/{marie}/desactiver").status_code == 302
    assert marie_client.get("/").status_code == 302  # the open session ended too
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 200
    assert _post(admin_client, f"/gestion/comptes/{marie}/reactiver").status_code == 302
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 302
    assert _post(admin_client, f"/gestion/comptes/{claire}/inviter").status_code == 302
    assert "/activer#code=" in text_of([m for m in sent_emails(demo) if m["To"] == CLAIRE][-1])

    with demo.unit_of_work() as uow:
        rows = uow.find(AuditRecord, record_type="user_account", actor_user_id=admin, order_by=("id",))
    assert [(r.action, r.record_id, r.actor_user_id) for r in rows] == [
        ("account_sessions_ended", marie, admin),
        ("account_deactivated", marie, admin),
        ("account_reactivated", marie, admin),
        ("account_invited", claire, admin),
    ]
    history = admin_client.get(f"/gestion/comptes/{marie}").get_data(as_text=True)
    assert "compte désactivé par Alice" in history and "sessions terminées par Alice" in history


def test_a_locked_account_is_shown_and_unlocked(demo: Portal, app: Flask, admin_client: FlaskClient) -> None:
    marie = _account_id(demo, "parent@example.org")
    for number in range(10):  # the account's limit, from addresses that each stay under theirs
        client = app.test_client()
        token = csrf_token(client)
        client.post(
            "/connexion",
            data={"email": "parent@example.org", "password": "mauvais", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"203.0.113.{number}"},
        )
    owner_elsewhere = app.test_client()
    assert login(owner_elsewhere, "parent@example.org", "parent-demo-password").status_code == 429
    page = admin_client.get(f"/gestion/comptes/{marie}").get_data(as_text=True)
    assert "verrouillé" in page and "Déverrouiller" in page
    assert _post(admin_client, f"/gestion/comptes/{marie}/deverrouiller").status_code == 302
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.first(AuditRecord, action="account_unlocked", record_id=marie) is not None


def test_nobody_deactivates_their_own_account(demo: Portal, admin_client: FlaskClient) -> None:
    admin = _account_id(demo, "admin@example.org")
    answer = _post(admin_client, f"/gestion/comptes/{admin}/desactiver")
    assert answer.status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.get(User, admin).is_active  # type: ignore[union-attr]


def test_an_administrator_creates_an_agent_who_chooses_a_password(
    demo: Portal, app: Flask, admin_client: FlaskClient
) -> None:
    token = csrf_token(admin_client, "/gestion/comptes/agents/nouveau")
    form = {"csrf_token": token, "display_name": "Nora", "email": "nora@example.org", "service": "", "role": "agent"}
    refused = admin_client.post("/gestion/comptes/agents/nouveau", data=form)
    assert refused.status_code == 422 and "Le service de l" in refused.get_data(as_text=True)
    created = admin_client.post("/gestion/comptes/agents/nouveau", data={**form, "service": "scolaire"})
    assert created.status_code == 302
    with demo.unit_of_work() as uow:
        nora = uow.first(User, email="nora@example.org")
        assert nora is not None and nora.role is Role.AGENT and nora.service == "SCOLAIRE"
        assert state_of(nora) is AccountState.INVITED
    client = app.test_client()
    assert activate(client, activation_code(demo, "nora@example.org")).status_code == 302
    assert login(app.test_client(), "nora@example.org", "une phrase de passe toute neuve").status_code == 302


@pytest.mark.parametrize(("production", "required"), [(True, True), (False, False)])
def test_agents_second_factor_is_required_by_default_in_production(
    portal: Portal, settings_data: dict[str, Any], production: bool, required: bool
) -> None:
    from famille_core import settings_from_mapping

    settings = settings_from_mapping({**settings_data, "portal": {**settings_data["portal"], "production": production}})
    assert settings.portal.agent_second_factor == "auto"
    assert settings.portal.second_factor_required is required


def test_famille_invite_dry_run_then_invites_with_a_summary(
    demo: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("host_flask.account_commands.current_portal", lambda: demo)
    runner = CliRunner()
    dry = runner.invoke(cli.cli, ["invite", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Simulation (rien n'a été envoyé) : 1 famille(s) sans compte actif, 1 e-mail(s)" in dry.output
    assert [m for m in sent_emails(demo) if m["To"] == CLAIRE] == []
    done = runner.invoke(cli.cli, ["invite"])
    assert done.exit_code == 0, done.output
    assert "Invitations faites : 1 famille(s) sans compte actif, 1 e-mail(s), 0 courrier(s)" in done.output
    assert activation_code(demo)
