"""A parent changes the login address: a confirmation to the new address, a notice to the old
one, and a recent login required (docs/security.md points 4, 5, 7)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from tests.conftest import csrf_token, login
from tests.mail_helpers import sent_emails, text_of


def _ask(client: FlaskClient, email: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/mon-adresse-email")
    return client.post("/mon-adresse-email", data={"csrf_token": token, "email": email})


def _to(portal: Portal, address: str) -> list[str]:
    return [text_of(m) for m in sent_emails(portal) if m["To"] == address]


def test_the_new_address_is_confirmed_from_its_mailbox_and_the_old_one_is_told(
    demo: Portal, app: Flask, parent_client: FlaskClient
) -> None:
    assert _ask(parent_client, "marie.nouvelle@example.org").status_code == 302
    assert "autre adresse e-mail de connexion a été demandée" in _to(demo, "parent@example.org")[-1]
    assert "marie.nouvelle" not in _to(demo, "parent@example.org")[-1]  # never the new value
    # Until confirmed, the old address still logs in.
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 302
    code = re.search(r"/confirmer-adresse#code=([\w-]+)", _to(demo, "marie.nouvelle@example.org")[-1])
    assert code is not None
    client = app.test_client()
    token = csrf_token(client, "/confirmer-adresse")
    assert client.post("/confirmer-adresse", data={"csrf_token": token, "token": code.group(1)}).status_code == 302
    assert login(app.test_client(), "marie.nouvelle@example.org", "parent-demo-password").status_code == 302
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 200
    assert "a été remplacée" in _to(demo, "parent@example.org")[-1]
    again = client.post("/confirmer-adresse", data={"csrf_token": token, "token": code.group(1)})
    assert again.status_code == 422  # single use


def test_an_address_another_account_uses_gets_the_same_answer(
    demo: Portal, parent_client: FlaskClient
) -> None:
    taken = _ask(parent_client, "martin@example.org")
    free = _ask(parent_client, "libre@example.org")
    assert (taken.status_code, taken.headers["Location"]) == (free.status_code, free.headers["Location"])
    assert "un compte l'utilise déjà" in _to(demo, "martin@example.org")[-1]


def test_changing_the_address_needs_a_recent_login(
    demo: Portal, parent_client: FlaskClient, clock: FixedClock
) -> None:
    clock.advance(timedelta(minutes=demo.settings.portal.recent_login_minutes + 1))
    assert parent_client.get("/mon-adresse-email").status_code == 302  # asked for the password
    answer = parent_client.post("/mon-adresse-email", data={"csrf_token": csrf_token(parent_client, "/"), "email": "x@example.org"})
    assert answer.status_code in (302, 401, 403)
    assert _to(demo, "x@example.org") == []
