"""Answers never depend on the mail server, and what was queued during an outage is sent when it
comes back (findings 8 and 14, docs/security.md points 4 and 40). A real local SMTP server
(aiosmtpd) that the tests stop, start, or replace by one that refuses or never answers."""

from __future__ import annotations

import email
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.mail import outbox_path
from famille_core.mail_queue import send_due
from tests.conftest import csrf_token
from tests.mail_helpers import read_email, text_of


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append(cast(EmailMessage, message))
        return "250 2.0.0 OK"


class Refusing:
    """An aiosmtpd handler that refuses every recipient."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, *_args: Any) -> str:
        return "554 5.7.1 Service refusé"


class SmtpPort:
    """One local port whose mail server a test switches: down, refusing, hanging or working."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller: Controller | None = None
        self._silent: socket.socket | None = None

    def down(self) -> None:
        """Nothing listens: connections are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._silent is not None:
            self._silent.close()
            self._silent = None

    def _serve(self, handler: object) -> None:
        self.down()
        self._controller = Controller(handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def refusing(self) -> None:
        """A server that answers, then refuses every recipient."""
        self._serve(Refusing())

    def hanging(self) -> None:
        """A server that accepts connections and never says a word."""
        self.down()
        self._silent = socket.socket()
        self._silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._silent.bind(("127.0.0.1", self.port))
        self._silent.listen(16)

    def working(self) -> Mailbox:
        """A server that accepts every e-mail; returns what it receives."""
        mailbox = Mailbox()
        self._serve(mailbox)
        return mailbox


@pytest.fixture
def smtp() -> Iterator[SmtpPort]:
    port = SmtpPort()
    yield port
    port.down()


@pytest.fixture
def settings_data(settings_data: dict[str, Any], smtp: SmtpPort) -> dict[str, Any]:
    mail = {"mode": "smtp", "host": "127.0.0.1", "port": smtp.port, "timeout_seconds": 1}
    return {**settings_data, "mail": {**mail, "retry_seconds": 60}}


def request_reset(app: Flask, address: str) -> Any:
    client = app.test_client()
    return client.post(
        "/mot-de-passe-oublie",
        data={"email": address, "csrf_token": csrf_token(client, "/mot-de-passe-oublie")},
    )


@pytest.mark.parametrize("server", ["down", "refusing", "hanging"])
def test_reset_answers_the_same_whatever_the_mail_server_then_mails_when_it_is_back(
    server: str, smtp: SmtpPort, demo: Portal, app: Flask
) -> None:
    getattr(smtp, server)()
    known = request_reset(app, "parent@example.org")
    unknown = request_reset(app, "inconnu@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known.get_data() == unknown.get_data()
    # The known address's e-mail waits in the queue while the server misbehaves…
    assert send_due(demo).retried == 1
    # …and leaves once it works again.
    mailbox = smtp.working()
    demo.clock.advance(timedelta(seconds=60))  # type: ignore[attr-defined]
    assert send_due(demo).sent == 1
    (mail,) = mailbox.messages
    assert mail["To"] == "parent@example.org"
    assert re.search(r"/reinitialiser-mot-de-passe#code=\S+", text_of(mail))


def test_password_change_notice_survives_a_mail_outage(
    smtp: SmtpPort, demo: Portal, parent_client: FlaskClient
) -> None:
    smtp.down()
    done = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "parent-demo-password",
            "password": "une phrase toute neuve",
            "confirm": "une phrase toute neuve",
            "csrf_token": csrf_token(parent_client, "/mon-mot-de-passe"),
        },
    )
    assert done.status_code == 302
    assert send_due(demo).retried == 1  # the server is down: the notice stays queued
    mailbox = smtp.working()
    demo.clock.advance(timedelta(seconds=60))  # type: ignore[attr-defined]
    assert send_due(demo).sent == 1
    (notice,) = mailbox.messages
    assert notice["To"] == "parent@example.org"
    assert notice["Subject"] == "Portail Famille : modification de votre compte"
    assert "votre mot de passe a été changé" in text_of(notice)
    assert "une phrase toute neuve" not in text_of(notice)


class TestBackgroundDelivery:
    """The default for the demo and small towns: the web process sends without a second
    command."""

    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "mail": {"mode": "outbox", "delivery": "background"}}

    @pytest.fixture(autouse=True)
    def stop_sender(self, portal: Portal) -> Iterator[None]:
        yield
        if portal.mail_sender is not None:
            portal.mail_sender.stop()

    def test_the_reset_email_is_sent_by_the_web_process(self, demo: Portal, app: Flask) -> None:
        assert request_reset(app, "parent@example.org").status_code == 302
        folder = outbox_path(demo)
        deadline = time.monotonic() + 60
        while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (path,) = folder.glob("*.eml")
        assert read_email(path)["To"] == "parent@example.org"
