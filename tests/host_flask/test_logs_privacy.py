"""No password, token, IBAN or health data in the logs (docs/security.md point 32).

Canary values go through the flows; every log record — message, arguments and structured extras —
is then searched for them. Plugins' flows add their canaries here as they land.
"""

from __future__ import annotations

import logging
import re
from email import message_from_bytes
from typing import Any

import pytest
from flask import Flask

from famille_core import Portal
from tests.conftest import csrf_token, login
from tests.mail_helpers import sent_mail_files

PASSWORD_CANARY = "canari-mot-de-passe-7f3a9"
NEW_PASSWORD_CANARY = "canari-nouveau-passe-55e1"
TOKEN_CANARY = "canari-jeton-2b8c4d"


def _record_text(record: logging.LogRecord) -> str:
    """Everything a log handler could write about ``record``."""
    parts = [record.getMessage(), repr(record.args)]
    parts += [repr(value) for value in record.__dict__.values()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def assert_no_canary(records: list[logging.LogRecord], *canaries: str) -> None:
    assert records, "no log record was written: the test would prove nothing"
    for record in records:
        text = _record_text(record)
        for canary in canaries:
            assert canary not in text, f"{canary!r} leaked into the log: {record.getMessage()}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_passwords_and_reset_tokens_stay_out_of_the_logs(
    demo: Portal, app: Flask, logs: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    login(client, "parent@example.org", PASSWORD_CANARY)  # refused
    login(client, "parent@example.org", "parent-demo-password")  # accepted
    client.post(
        "/mot-de-passe-oublie",
        data={
            "email": "parent@example.org",
            "csrf_token": csrf_token(client, "/mot-de-passe-oublie"),
        },
    )
    mail = sent_mail_files(demo)[-1]
    body = message_from_bytes(mail.read_bytes()).get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"(/reinitialiser-mot-de-passe)#code=(\S+)", body)
    assert match
    reset_token = match.group(2)
    path = match.group(1)
    answer = client.post(
        path,
        data={
            "token": reset_token,
            "password": NEW_PASSWORD_CANARY,
            "confirm": NEW_PASSWORD_CANARY,
            "csrf_token": csrf_token(client, path),
        },
    )
    assert answer.status_code in (302, 303)
    messages = [record.getMessage() for record in logs.records]
    assert "login failed" in messages and "password reset" in messages
    assert_no_canary(logs.records, PASSWORD_CANARY, NEW_PASSWORD_CANARY, reset_token)


def test_api_tokens_stay_out_of_the_logs(
    demo: Portal, app: Flask, logs: pytest.LogCaptureFixture
) -> None:
    from tests.api.conftest import make_token

    good = make_token(demo, "erp", ["families:read"])
    client = app.test_client()
    headers: dict[str, Any] = {"Authorization": f"Bearer {TOKEN_CANARY}"}
    assert client.get("/api/v1/families", headers=headers).status_code == 401
    assert (
        client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {good}"}).status_code
        == 403
    )
    assert_no_canary(logs.records, TOKEN_CANARY, good)
