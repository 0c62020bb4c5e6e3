"""Sensitive changes need a recent login and send a notice (docs/security.md point 7)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from flask import Blueprint
from flask.testing import FlaskClient

from famille_core import Portal, hookimpl
from famille_core.entities import Actor, Role
from famille_core.errors import ReauthenticationRequired
from famille_core.services.access import require_recent_login
from host_flask.access import families_only, recent_login_required
from tests.conftest import csrf_token
from tests.mail_helpers import sent_mail_files

sensitive = Blueprint("sensitive_test", __name__)


@sensitive.route("/test/coordonnees-bancaires", methods=["GET", "POST"])
@families_only
@recent_login_required
def bank_details() -> str:
    return "formulaire des coordonnées bancaires"


class SensitivePages:
    """A stand-in for a plugin with a sensitive form."""

    @hookimpl
    def register_blueprints(self, portal: Portal) -> list[Any]:
        return [sensitive]


@pytest.fixture
def extra_plugins() -> list[object]:
    return [SensitivePages()]


def _mail_bodies(portal: Portal) -> list[str]:
    bodies = []
    for path in sent_mail_files(portal):
        mail = message_from_bytes(path.read_bytes())
        bodies.append(mail.get_payload(decode=True).decode())  # type: ignore[union-attr]
    return bodies


def test_fresh_login_may_open_a_sensitive_form(parent_client: FlaskClient) -> None:
    response = parent_client.get("/test/coordonnees-bancaires")
    assert response.status_code == 200
    assert "coordonnées bancaires" in response.get_data(as_text=True)


def test_old_login_must_type_the_password_again(parent_client: FlaskClient, demo: Portal) -> None:
    demo.clock.advance(timedelta(minutes=10))
    assert parent_client.get("/").status_code == 200  # still logged in (activity)
    demo.clock.advance(timedelta(minutes=10))  # 20 minutes since the password was typed
    response = parent_client.get("/test/coordonnees-bancaires")
    assert response.status_code == 302
    assert "/connexion/confirmer?next=/test/coordonnees-bancaires" in response.location
    page = parent_client.get(response.location).get_data(as_text=True)
    assert (
        "confirmez d&#39;abord votre mot de passe" in page or "retapez votre mot de passe" in page
    )

    confirm = response.location
    wrong = parent_client.post(
        confirm, data={"password": "pas le bon", "csrf_token": csrf_token(parent_client, confirm)}
    )
    assert wrong.status_code == 422
    assert "Mot de passe incorrect" in wrong.get_data(as_text=True)
    assert parent_client.get("/test/coordonnees-bancaires").status_code == 302

    right = parent_client.post(
        confirm,
        data={
            "password": "parent-demo-password",
            "csrf_token": csrf_token(parent_client, confirm),
        },
    )
    assert right.status_code == 302
    assert right.location == "/test/coordonnees-bancaires"
    assert parent_client.get("/test/coordonnees-bancaires").status_code == 200


def test_a_refused_post_comes_back_to_its_form(parent_client: FlaskClient, demo: Portal) -> None:
    token = csrf_token(parent_client, "/")
    demo.clock.advance(timedelta(minutes=16))
    response = parent_client.post(
        "/test/coordonnees-bancaires",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/test/coordonnees-bancaires"},
    )
    assert response.status_code == 302
    assert response.location.endswith("/connexion/confirmer?next=/test/coordonnees-bancaires")


def test_service_check_applies_to_people_not_to_the_portal(portal: Portal) -> None:
    now = portal.clock.now()
    parent = Actor(user_id=1, role=Role.PARENT, family_id=1, authenticated_at=now)
    require_recent_login(portal, parent)  # just typed
    with pytest.raises(ReauthenticationRequired):
        require_recent_login(portal, Actor(user_id=1, role=Role.PARENT, family_id=1))
    stale = Actor(
        user_id=1, role=Role.PARENT, family_id=1, authenticated_at=now - timedelta(minutes=16)
    )
    with pytest.raises(ReauthenticationRequired):
        require_recent_login(portal, stale)
    require_recent_login(portal, Actor.system())  # imports, ERP calls


def test_password_change_sends_a_notice_without_the_password(
    parent_client: FlaskClient, demo: Portal
) -> None:
    new = "une toute nouvelle phrase de passe"
    response = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "parent-demo-password",
            "password": new,
            "confirm": new,
            "csrf_token": csrf_token(parent_client, "/mon-mot-de-passe"),
        },
    )
    assert response.status_code == 302
    bodies = _mail_bodies(demo)
    assert len(bodies) == 1
    assert "votre mot de passe a été changé" in bodies[0]
    assert new not in bodies[0]
    assert "Commune d'Harmonie" in bodies[0]
