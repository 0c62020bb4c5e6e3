"""``next=`` never sends anyone off-site, nor to an error (finding 6, docs/security.md point 41).

Browsers drop tabs and newlines from a ``Location`` and read ``\\`` as ``/``: the review's
``next=/%09/evil.example`` became ``//evil.example``, and ``next=/%0A/x`` a 500 after a good login.
Each nasty value goes through the real routes: the login, the second-factor step and
``/connexion/confirmer``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import User
from host_flask.sessions import safe_next
from tests.conftest import csrf_token, login

NASTY = [
    "/%09/evil.example",
    "/%0A/x",
    "/%0D/evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "%09//evil.example",
    "//evil.example",
    "///evil.example",
    "/%5Cevil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/%20/evil.example",
    "/%C2%A0/evil.example",
    "/%E3%80%80/evil.example",
    "/%E2%80%8B/evil.example",
    "/%7F/evil.example",
    "/%00/x",
]
"""Raw query-string values (already percent-encoded, as an attacker writes them in a link)."""


def _assert_stays_home(response, value: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code != 500, value
    if response.status_code == 400:  # a NUL byte is refused before any view
        return
    assert response.status_code == 302, (value, response.status_code)
    assert response.headers["Location"] == "/", (value, response.headers["Location"])


def test_login_follows_only_local_paths(demo: Portal, app: Flask) -> None:
    for value in NASTY:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            f"/connexion?next={value}",
            data={"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token},
        )
        _assert_stays_home(response, value)
    client = app.test_client()
    good = client.post(
        "/connexion?next=/factures%3Fannee%3D2026",
        data={
            "email": "parent@example.org",
            "password": "parent-demo-password",
            "csrf_token": csrf_token(client),
        },
    )
    assert good.headers["Location"] == "/factures?annee=2026"


def test_confirm_password_follows_only_local_paths(
    demo: Portal, parent_client: FlaskClient
) -> None:
    for value in NASTY:
        response = parent_client.post(
            f"/connexion/confirmer?next={value}",
            data={
                "password": "parent-demo-password",
                "csrf_token": csrf_token(parent_client, "/"),
            },
        )
        _assert_stays_home(response, value)


def test_second_factor_step_follows_only_local_paths(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    page = agent_client.get("/securite/double-authentification").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    enrolled = agent_client.post(
        "/securite/double-authentification",
        data={
            "code": pyotp.TOTP(secret).at(demo.clock.now()),
            "csrf_token": csrf_token(agent_client, "/securite/double-authentification"),
        },
    )
    assert enrolled.status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.first(User, email="agent@example.org").totp_secret == secret  # type: ignore[union-attr]
    for value in NASTY:
        demo.clock.advance(timedelta(seconds=30))  # a code is accepted once: a new time step
        client = app.test_client()
        assert login(client, "agent@example.org", "agent-demo-password").status_code == 302
        response = client.post(
            f"/connexion/code?next={value}",
            data={
                "code": pyotp.TOTP(secret).at(demo.clock.now()),
                "csrf_token": csrf_token(client, "/connexion/code"),
            },
        )
        _assert_stays_home(response, value)


@pytest.mark.parametrize("value", NASTY)
def test_safe_next_refuses_what_a_browser_could_read_as_another_site(value: str) -> None:
    assert safe_next(unquote(value)) is None
    assert safe_next("/agenda?mois=2026-11") == "/agenda?mois=2026-11"
