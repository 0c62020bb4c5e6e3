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


# --------------------------------------------------------------------------- access log, JSON logs

COOKIE_CANARY = "canari-cookie-91d0e"
IDOP_CANARY = "canari-idop-4410aa"


class _Answer:
    """What gunicorn's access log reads of a response."""

    status = "200 OK"
    sent = 1234
    headers = [("Content-Type", "text/calendar"), ("Set-Cookie", f"famille_session={COOKIE_CANARY}")]


def _access_lines(environ: dict[str, Any], request_headers: list[tuple[str, str]], fmt: str = "") -> list[logging.LogRecord]:
    from datetime import timedelta

    from gunicorn.config import Config

    from host_flask.production import AccessLogger

    config = Config()
    config.set("accesslog", "-")
    if fmt:
        config.set("access_log_format", fmt)
    else:
        from host_flask.production import ACCESS_FORMAT

        config.set("access_log_format", ACCESS_FORMAT)
    logger = AccessLogger(config)
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # type: ignore[method-assign]
    logger.access_log.addHandler(catcher)
    logger.access(_Answer(), request_headers, environ, timedelta(milliseconds=12))
    return records


def test_the_access_log_masks_the_feed_token_query_secrets_and_cookies(
    demo: Portal, app: Flask
) -> None:
    from famille_core.entities import Actor, Child, User
    from famille_plugins.calendar.services import feeds

    with demo.unit_of_work() as uow:
        parent = Actor.for_user(uow.first(User, email="parent@example.org"))  # type: ignore[arg-type]
        child = next(c for c in uow.find(Child) if c.first_name == "Emma")
        feed_token = feeds.create_feed(demo, uow, parent, child.id)
        uow.commit()
    headers = [
        ("Cookie", f"famille_session={COOKIE_CANARY}"),
        ("Authorization", f"Bearer {TOKEN_CANARY}"),
        ("Referer", f"https://portail.example/x?token={TOKEN_CANARY}"),
        ("User-Agent", "Agenda/1.0"),
    ]
    answer = app.test_client().get(
        f"/agenda/ical/{feed_token}.ics?idop={IDOP_CANARY}&jour=2026-11-16",
        headers=dict(headers),
    )
    assert answer.status_code == 200
    environ = answer.request.environ
    [record] = _access_lines(environ, headers)
    line = record.getMessage()
    assert '"GET /agenda/ical/***.ics?idop=***&jour=2026-11-16 HTTP/1.1" 200' in line
    assert "Agenda/1.0" in line and getattr(record, "request_id", None) in line
    for secret in (feed_token, IDOP_CANARY, COOKIE_CANARY, TOKEN_CANARY):
        assert secret not in line
    # A custom format asking for cookies, credentials or the environ gets "-".
    custom = "%({cookie}i)s|%({authorization}i)s|%({set-cookie}o)s|%({http_cookie}e)s|%(U)s"
    [record] = _access_lines(environ, headers, custom)
    assert record.getMessage() == "-|-|-|-|/agenda/ical/***.ics"


def test_addresses_no_route_names_are_scrubbed_too() -> None:
    from host_flask.log_scrub import ScrubFilter, scrub_url

    assert scrub_url("/agenda/ical/Zx81_Qa90bC-Lm2Pq7Rt.ics") == "/agenda/ical/***.ics"
    assert scrub_url("/reinitialiser-mot-de-passe?code=123456&next=/agenda/") == (
        "/reinitialiser-mot-de-passe?code=***&next=/agenda/"
    )
    assert scrub_url("/agenda/?mois=2026-11&enfant=3") == "/agenda/?mois=2026-11&enfant=3"
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '127.0.0.1 - - [16/Nov/2026 09:00:00] "%s" %s %s',
        ("GET /agenda/ical/Zx81_Qa90bC-Lm2Pq7Rt.ics?token=abc HTTP/1.1", "200", "-"), None
    )
    ScrubFilter().filter(record)
    assert '"GET /agenda/ical/***.ics?token=*** HTTP/1.1" 200 -' in record.getMessage()


def test_json_logs_one_object_per_line_with_the_request_id_and_no_secret(
    demo: Portal, app: Flask
) -> None:
    import io
    import json

    from famille_core.logs import JsonFormatter, RequestIdFilter
    from host_flask.logs import current_request_id

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter(current_request_id))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        client = app.test_client()
        answer = login(client, "parent@example.org", PASSWORD_CANARY)  # refused: logged
        login(client, "parent@example.org", "parent-demo-password")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and all(
        set(entry) <= {"time", "level", "logger", "message", "request_id", "exception"}
        and {"time", "level", "logger", "message", "request_id"} <= set(entry)
        for entry in entries
    )
    failed = [entry for entry in entries if entry["message"] == "login failed"]
    assert failed and failed[0]["request_id"] == answer.headers["X-Request-ID"]
    assert PASSWORD_CANARY not in stream.getvalue()
    assert "parent@example.org" not in stream.getvalue()
