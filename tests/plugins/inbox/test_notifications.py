"""E-mails about new messages, queued with the message and sent to the development outbox, and
the privacy setting that keeps the text out of them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import Message as EmailMessage
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal, notify_family
from famille_core.entities import Family, Message, OutgoingEmail
from famille_core.mail_queue import send_due
from tests.mail_helpers import read_email, sent_mail_files
from tests.plugins.inbox.conftest import GUIDE_SUBJECT, reply, send

SECRET_TEXT = "Lucas a une allergie à l'arachide"


def outbox(portal: Portal, seen: frozenset[str] = frozenset()) -> list[EmailMessage]:
    """The e-mails sent (development outbox), by recipient, leaving out the files ``seen``."""
    mails = [read_email(p) for p in sent_mail_files(portal) if p.name not in seen]
    return sorted(mails, key=lambda mail: str(mail["To"]))


def outbox_names(portal: Portal) -> frozenset[str]:
    return frozenset(p.name for p in sent_mail_files(portal))


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def notice(portal: Portal, subject: str, body: str) -> int:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        assert family is not None and family.id is not None
        message_id = notify_family(portal, uow, family.id, subject, body, service="ENFANCE")
        uow.commit()
    assert message_id is not None
    return message_id


def test_family_message_is_mailed_to_the_service_agents(parent_client: FlaskClient, demo: Portal) -> None:
    before = outbox_names(demo)
    send(parent_client)
    (mail,) = outbox(demo, before)
    assert mail["To"] == "agent@example.org"
    assert mail["Subject"] == f"Nouveau message : {GUIDE_SUBJECT}"
    text = text_of(mail)
    assert "Je souhaiterais inscrire mon fils exceptionnellement" in text
    assert "De : Marie DUPONT" in text
    assert "/gestion/messages/conversation/" in text


def test_collectivity_message_is_mailed_to_the_household_logins(demo: Portal) -> None:
    message_id = notice(demo, "Paiement reçu", "Nous avons reçu votre paiement de 42,50 €.")
    mails = outbox(demo)
    assert sorted(m["To"] for m in mails) == ["conjoint@example.org", "parent@example.org"]
    for mail in mails:
        assert "Nous avons reçu votre paiement de 42,50 €." in text_of(mail)
        assert f"http://127.0.0.1:5000/messages/{message_id}" in text_of(mail)


def test_the_emails_are_queued_in_the_messages_transaction(demo: Portal) -> None:
    """A notice rolled back sends nothing; a committed one has its e-mails already queued."""
    with demo.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        assert family is not None and family.id is not None
        notify_family(demo, uow, family.id, "Paiement reçu", "Merci.", service="ENFANCE")
        uow.flush()
        assert uow.count(OutgoingEmail) == 2  # before the commit, with the message
    assert outbox(demo) == []  # rolled back: neither message nor e-mail


def test_agent_reply_is_mailed_to_the_family(parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client)
    with demo.unit_of_work() as uow:
        (message,) = uow.find(Message)
    before = outbox_names(demo)
    page = f"/gestion/messages/conversation/{message.thread_id}"
    reply(agent_client, page, f"{page}/repondre", "Oui, en ligne.")
    mails = outbox(demo, before)
    assert sorted(m["To"] for m in mails) == ["conjoint@example.org", "parent@example.org"]
    assert all("De : Magnus ENFANCE" in text_of(m) for m in mails)


class TestServiceAddress:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "plugins": {"inbox": {"service_emails": {"ENFANCE": "enfance@harmonie.example"}}}}

    def test_configured_service_address_is_used(self, parent_client: FlaskClient, demo: Portal) -> None:
        send(parent_client)
        assert [m["To"] for m in outbox(demo)] == ["enfance@harmonie.example"]


class TestPrivateNotifications:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "plugins": {"inbox": {"private_notifications": True}}}

    def test_only_a_new_message_and_a_link_never_the_text(
        self, parent_client: FlaskClient, demo: Portal
    ) -> None:
        message_id = notice(demo, "Santé de Lucas", SECRET_TEXT)
        family_mails = outbox(demo)
        send(parent_client, subject="Allergie", body=SECRET_TEXT)
        (service_mail,) = [m for m in outbox(demo) if m["To"] == "agent@example.org"]
        assert [m["To"] for m in family_mails] == ["conjoint@example.org", "parent@example.org"]
        for mail in [*family_mails, service_mail]:
            shown = f"{mail['Subject']}\n{text_of(mail)}"
            assert "arachide" not in shown and "Santé" not in shown and "Allergie" not in shown
            assert mail["Subject"] == "Vous avez un nouveau message"
            assert "Vous avez un nouveau message" in text_of(mail)
        assert f"/messages/{message_id}" in text_of(family_mails[0])
        assert "/gestion/messages/conversation/" in text_of(service_mail)


class TestMailServerDown:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> Iterator[dict[str, Any]]:
        with socket.socket() as closed:  # nothing listens there: the mail server is down
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            yield {**settings_data, "mail": {"mode": "smtp", "host": "127.0.0.1", "port": port}}

    def test_message_is_kept_and_its_email_waits(self, parent_client: FlaskClient, demo: Portal) -> None:
        response = send(parent_client)
        assert response.status_code == 302
        with demo.unit_of_work() as uow:
            assert uow.count(Message) == 1
        assert send_due(demo).retried == 1  # queued, retried later
