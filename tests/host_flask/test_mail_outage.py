"""Answers never depend on the mail server, and what was queued during an outage is sent when it
comes back (findings 8 and 14, docs/security.md points 4 and 40). A real local SMTP server
(aiosmtpd) that the tests stop, start, or replace by one that refuses or never answers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.mail import outbox_path
from famille_core.mail_queue import send_due
from tests.conftest import csrf_token
from tests.mail_helpers import SmtpPort, read_email, text_of


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
