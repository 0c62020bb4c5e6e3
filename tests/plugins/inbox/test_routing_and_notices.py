"""Routing of new conversations to a service (``route_message``), and system messages posted
by other plugins through ``famille_core.notify_family`` (hook ``post_family_notice``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal, hookimpl, notify_family
from famille_core.entities import Attachment, Direction, Family, Message, Reservation, Thread
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import png_bytes, send


class RoutesCantineToScolaire:
    """A collectivity's plugin: questions about school go to SCOLAIRE."""

    @hookimpl
    def route_message(self, portal: Portal, thread: Thread, message: Message) -> str | None:
        return "SCOLAIRE" if "école" in message.body.lower() else None


class ReservationNotices:
    """A stand-in for the calendar plugin: tells the family when a reservation is decided."""

    @hookimpl
    def on_reservation(self, portal: Portal, reservation: Reservation, change: str) -> None:
        with portal.unit_of_work() as uow:
            notify_family(
                portal,
                uow,
                reservation.family_id,
                f"Réservation {'acceptée' if change == 'accepted' else 'refusée'}",
                "Votre demande de réservation du mercredi a été traitée.",
                service="ENFANCE",
            )
            uow.commit()


@pytest.fixture
def extra_plugins() -> list[object]:
    return [RoutesCantineToScolaire(), ReservationNotices()]


def only_thread(portal: Portal) -> Thread:
    with portal.unit_of_work() as uow:
        (thread,) = uow.find(Thread)
        return thread


def test_default_route_is_the_first_service(parent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client)
    assert only_thread(demo).service == "ENFANCE"


def test_a_plugin_routes_a_message_to_another_service(parent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client, body="Question sur l'école de Lucas.")
    assert only_thread(demo).service == "SCOLAIRE"


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"inbox": {"routing": {"inscription scolaire": "SCOLAIRE", "piscine": "SPORTS"}}}}


def test_configured_keyword_routes_by_title(parent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client, subject="Inscription scolaire 2027")
    assert only_thread(demo).service == "SCOLAIRE"


def test_unknown_service_falls_back_to_the_first(parent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client, subject="Horaires de la piscine")  # SPORTS is not a mailbox
    assert only_thread(demo).service == "ENFANCE"


def test_agent_of_another_service_does_not_see_the_conversation(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    send(parent_client, body="Question sur l'école de Lucas.", files=[(png_bytes(), "bulletin.png")])  # → SCOLAIRE
    thread = only_thread(demo)
    with demo.unit_of_work() as uow:
        (attachment,) = uow.find(Attachment)
    assert agent_client.get(f"/gestion/messages/conversation/{thread.id}").status_code == 404
    assert agent_client.get(f"/gestion/messages/pieces-jointes/{attachment.id}").status_code == 404
    page = f"/gestion/messages/conversation/{thread.id}"
    response = agent_client.post(f"{page}/repondre", data={"body": "intrus", "csrf_token": csrf_token(agent_client, "/")})
    assert response.status_code == 404
    assert agent_client.get("/gestion/messages/service/SCOLAIRE").status_code == 404
    page = agent_client.get("/gestion/messages/service/ENFANCE").get_data(as_text=True)
    assert "Aucune conversation." in page


def test_a_test_plugin_posts_a_system_message_through_the_core_api(
    parent_client: FlaskClient, demo: Portal
) -> None:
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None and dupont.id is not None
        reservation: Any = type("R", (), {"family_id": dupont.id})()
    demo.hook.on_reservation(portal=demo, reservation=reservation, change="accepted")
    with demo.unit_of_work() as uow:
        (message,) = uow.find(Message)
        assert message.is_system and message.direction == Direction.FROM_COLLECTIVITY
        assert message.family_id == dupont.id
        assert message.author_label == "Service ENFANCE"
    inbox = parent_client.get("/messages/").get_data(as_text=True)
    assert "Réservation acceptée" in inbox and "Non lu" in inbox
    assert "Vous avez 1 nouveau message" in parent_client.get("/").get_data(as_text=True)
    page = parent_client.get(f"/messages/{message.id}").get_data(as_text=True)
    assert "Message automatique" in page
    assert "Votre demande de réservation du mercredi a été traitée." in page


def test_notice_is_rolled_back_with_the_callers_transaction(demo: Portal) -> None:
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None and dupont.id is not None
        assert notify_family(demo, uow, dupont.id, "Paiement reçu", "Merci.") is not None
        uow.rollback()
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0 and uow.count(Thread) == 0


class TestWithoutInbox:
    """Other plugins call notify_family whatever is installed: without inbox it does nothing."""

    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "portal": {**settings_data["portal"], "plugins": ["profile"]}}

    def test_notify_family_is_a_no_op(self, demo: Portal) -> None:
        assert not demo.is_enabled("inbox")
        with demo.unit_of_work() as uow:
            dupont = uow.first(Family, name="DUPONT")
            assert dupont is not None and dupont.id is not None
            assert notify_family(demo, uow, dupont.id, "Paiement reçu", "Merci.") is None
            uow.commit()
        with demo.unit_of_work() as uow:
            assert uow.count(Message) == 0
