"""The session check reads the account on every request (host_flask/sessions.py,
famille_core/persistence/account_check.py): a change made elsewhere — another worker, an agent's
page, a command — is seen by the very next request, never after some cache expires."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import User
from host_flask.access import TemplateUser, current_user, signed_in


def _change_parent(portal: Portal, change: Callable[[User], None]) -> None:
    """Change the demo parent's account in a unit of work of its own (as another process would)."""
    with portal.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        change(user)
        uow.commit()


def _refused(client: FlaskClient) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_a_new_name_shows_on_the_next_page(parent_client: FlaskClient, demo: Portal) -> None:
    assert "Marie DUPONT" in parent_client.get("/").get_data(as_text=True)
    _change_parent(demo, lambda user: setattr(user, "display_name", "Marie MARTIN-DUPONT"))
    assert "Marie MARTIN-DUPONT" in parent_client.get("/").get_data(as_text=True)


def test_a_deactivated_account_is_refused_on_the_next_request(
    parent_client: FlaskClient, demo: Portal
) -> None:
    assert parent_client.get("/").status_code == 200
    _change_parent(demo, lambda user: setattr(user, "is_active", False))
    assert _refused(parent_client)
    _change_parent(demo, lambda user: setattr(user, "is_active", True))
    assert _refused(parent_client), "the refused session was forgotten, not kept for later"


def test_a_changed_nonce_ends_the_session_on_the_next_request(
    parent_client: FlaskClient, demo: Portal
) -> None:
    assert parent_client.get("/").status_code == 200
    _change_parent(demo, lambda user: setattr(user, "session_nonce", "changed-elsewhere"))
    assert _refused(parent_client)


def test_an_account_detached_from_its_household_loses_the_family_pages_at_once(
    parent_client: FlaskClient, demo: Portal
) -> None:
    assert parent_client.get("/factures/").status_code == 200
    _change_parent(demo, lambda user: setattr(user, "family_id", None))
    assert parent_client.get("/factures/").status_code == 404


def test_templates_read_the_name_from_the_check_and_anything_else_from_the_account(
    parent_client: FlaskClient, app: Flask
) -> None:
    cookie = parent_client.get_cookie("famille_session")
    assert cookie is not None
    with app.test_request_context("/", headers={"Cookie": f"famille_session={cookie.value}"}):
        app.preprocess_request()
        account = signed_in()
        assert account is not None and account.display_name == "Marie DUPONT"
        shown = TemplateUser(account)
        assert "famille_user" not in g  # no entity loaded for the name
        assert shown.display_name == "Marie DUPONT" and not shown.is_agent
        assert shown.email == "parent@example.org"  # loaded on demand
        user = current_user()
        assert user is not None and user.id == account.id
