"""TOTP second factor for agents (docs/security.md point 8)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import User
from tests.conftest import csrf_token, login

AGENT = ("agent@example.org", "agent-demo-password")


def _code(portal: Portal, secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(portal.clock.now() + timedelta(seconds=30 * offset))


def _enrol(client: FlaskClient, portal: Portal) -> str:
    page = client.get("/securite/double-authentification").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    assert 'src="data:image/svg+xml;base64,' in page
    token = csrf_token(client, "/securite/double-authentification")
    wrong = client.post("/securite/double-authentification", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 422
    done = client.post("/securite/double-authentification", data={"code": _code(portal, secret), "csrf_token": token})
    assert done.status_code == 302
    return secret


def _submit_code(client: FlaskClient, code: str) -> Any:
    token = csrf_token(client, "/connexion/code")
    return client.post("/connexion/code", data={"code": code, "csrf_token": token})


def test_enrolled_agent_needs_the_code_after_the_password(demo: Portal, app: Flask, agent_client: FlaskClient) -> None:
    secret = _enrol(agent_client, demo)
    with demo.unit_of_work() as uow:
        assert uow.first(User, email=AGENT[0]).totp_secret == secret
    client = app.test_client()
    response = login(client, *AGENT)
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion/code")
    assert client.get("/").status_code == 302  # the password alone opens nothing
    assert _submit_code(client, "123456").status_code == 200
    demo.clock.advance(timedelta(seconds=30))
    assert _submit_code(client, _code(demo, secret)).status_code == 302
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_only_once(demo: Portal, app: Flask, agent_client: FlaskClient) -> None:
    secret = _enrol(agent_client, demo)
    demo.clock.advance(timedelta(seconds=30))
    code = _code(demo, secret)
    first = app.test_client()
    login(first, *AGENT)
    assert _submit_code(first, code).status_code == 302
    second = app.test_client()
    login(second, *AGENT)
    replay = _submit_code(second, code)
    assert replay.status_code == 200 and "Code incorrect" in replay.get_data(as_text=True)


def test_a_code_sent_to_two_workers_at_once_is_accepted_once(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    """Two workers read the account before either records the code's step (the race of two
    simultaneous posts): the step is claimed in the database, so only one passes."""
    from host_flask import second_factor

    secret = _enrol(agent_client, demo)
    demo.clock.advance(timedelta(seconds=30))
    code = _code(demo, secret)
    with demo.unit_of_work() as one, demo.unit_of_work() as two:
        first = one.first(User, email=AGENT[0])
        second = two.first(User, email=AGENT[0])
        assert first is not None and second is not None
        assert first.totp_last_step == second.totp_last_step  # both read the same, stale row
        assert second_factor.verify(demo, first, code)
        assert not second_factor.verify(demo, second, code)


def test_the_code_step_expires(demo: Portal, app: Flask, agent_client: FlaskClient) -> None:
    secret = _enrol(agent_client, demo)
    client = app.test_client()
    login(client, *AGENT)
    token = csrf_token(client, "/connexion/code")
    demo.clock.advance(timedelta(minutes=6))
    response = client.post("/connexion/code", data={"code": _code(demo, secret), "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert client.get("/").status_code == 302


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"] = {**settings_data["portal"], "agent_second_factor": "required"}
    return settings_data


def test_required_second_factor_sends_agents_to_enrolment(demo: Portal, agent_client: FlaskClient, parent_client: FlaskClient) -> None:
    response = agent_client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/securite/double-authentification"
    assert parent_client.get("/").status_code == 200  # parents are not forced
    _enrol(agent_client, demo)
    assert agent_client.get("/").status_code == 200


def _outbox_bodies(portal: Portal) -> list[str]:
    from tests.mail_helpers import sent_emails, text_of

    return [text_of(message) for message in sent_emails(portal)]


def test_five_wrong_codes_end_the_pending_login_and_tell_the_owner(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    """Finding 5: 1,200 wrong codes went through at 79 per second."""
    secret = _enrol(agent_client, demo)
    before = len(_outbox_bodies(demo))
    client = app.test_client()
    login(client, *AGENT)
    for _ in range(4):
        wrong = _submit_code(client, "000000")
        assert wrong.status_code == 200 and "Code incorrect" in wrong.get_data(as_text=True)
    fifth = _submit_code(client, "000000")
    assert fifth.status_code == 302 and fifth.headers["Location"] == "/connexion"
    assert client.get("/connexion/code").headers["Location"] == "/connexion"  # no pending login
    notices = _outbox_bodies(demo)[before:]
    assert len(notices) == 1 and "double authentification erronés" in notices[0]
    # With the password again, even the right code waits for the window: no sixth guess.
    demo.clock.advance(timedelta(seconds=30))
    login(client, *AGENT)
    refused = _submit_code(client, _code(demo, secret))
    assert refused.status_code == 302 and refused.headers["Location"] == "/connexion"
    assert client.get("/").status_code == 302
    assert len(_outbox_bodies(demo)[before:]) == 1  # told once


def test_a_right_code_forgets_the_wrong_ones(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    secret = _enrol(agent_client, demo)
    for _ in range(2):
        client = app.test_client()
        login(client, *AGENT)
        for _ in range(4):
            assert _submit_code(client, "000000").status_code == 200
        demo.clock.advance(timedelta(seconds=30))
        assert _submit_code(client, _code(demo, secret)).status_code == 302


def test_thirty_simultaneous_codes_check_at_most_five(
    demo: Portal, app: Flask, agent_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from host_flask import second_factor as second_factor_service
    from tests.e2e_fixtures import serving

    _enrol(agent_client, demo)
    checked: list[str] = []
    real_step = second_factor_service._accepted_step

    def counting_step(*args: Any) -> Any:
        checked.append("code")
        return real_step(*args)

    monkeypatch.setattr(second_factor_service, "_accepted_step", counting_step)
    before = len(_outbox_bodies(demo))
    with serving(app) as url:
        browser = requests.Session()
        page = browser.get(f"{url}/connexion").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        answer = browser.post(
            f"{url}/connexion",
            data={"email": AGENT[0], "password": AGENT[1], "csrf_token": token},
            allow_redirects=False,
        )
        assert answer.headers["Location"].startswith("/connexion/code")
        page = browser.get(f"{url}/connexion/code").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        cookies = browser.cookies.get_dict()
        start = threading.Barrier(30)

        def guess(index: int) -> int:
            session = requests.Session()
            session.cookies.update(cookies)  # the same pending login, thirty times at once
            start.wait()
            return session.post(
                f"{url}/connexion/code",
                data={"code": f"{index:06d}", "csrf_token": token},
                allow_redirects=False,
            ).status_code

        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(guess, range(30)))
    assert 1 <= len(checked) <= 5, len(checked)
    assert set(statuses) <= {200, 302} and statuses.count(200) <= 4
    assert len(_outbox_bodies(demo)[before:]) == 1
