"""The session cookie's checks still hold for a cookie a worker verified earlier and remembers
(host_flask/session_cookie.py; docs/deployment.md, "Fast pages")."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from famille_core import Portal
from tests.conftest import csrf_token


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("famille_session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, cookie: str) -> FlaskClient:
    """Another browser sending ``cookie`` (a copy, or the same browser before a new cookie)."""
    other = app.test_client()
    other.set_cookie("famille_session", cookie)
    return other


def _refused(response: object) -> bool:
    return response.status_code == 302 and "/connexion" in response.headers["Location"]  # type: ignore[attr-defined]


def test_a_cookie_seen_before_still_expires_with_the_session_lifetime(
    parent_client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = _cookie(parent_client)
    assert parent_client.get("/").status_code == 200  # verified, and remembered
    assert _with_cookie(app, cookie).get("/").status_code == 200
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)  # the signature's clock, not the portal's
    assert _refused(_with_cookie(app, cookie).get("/"))


def test_a_cookie_signed_with_a_replaced_key_is_refused_though_it_was_seen_before(
    parent_client: FlaskClient, app: Flask
) -> None:
    cookie = _cookie(parent_client)
    assert parent_client.get("/").status_code == 200
    app.secret_key = "a-new-key-after-a-leak-0123456789abcdef"
    assert _refused(_with_cookie(app, cookie).get("/"))


def test_a_cookie_verified_while_the_key_changes_is_not_remembered_for_the_new_key(
    parent_client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A threaded server: one request verifies a cookie under the old key while another puts
    the new key in place. The first request's check must not vouch for the cookie afterwards."""
    cookie = _cookie(parent_client)
    new_key = "a-new-key-after-a-leak-0123456789abcdef"
    verify = URLSafeTimedSerializer.loads

    def verify_while_the_key_changes(self: URLSafeTimedSerializer, *args: Any, **kwargs: Any) -> Any:
        app.secret_key = new_key  # meanwhile, another thread puts the new key in place
        app.session_interface.get_signing_serializer(app)  # and opens a session with it
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", verify_while_the_key_changes)
    _with_cookie(app, cookie).get("/")  # verified under the old key, already in hand
    monkeypatch.setattr(URLSafeTimedSerializer, "loads", verify)
    assert _refused(_with_cookie(app, cookie).get("/"))


def test_an_old_cookie_keeps_its_own_activity_time_when_a_newer_one_was_refreshed(
    parent_client: FlaskClient, app: Flask, demo: Portal
) -> None:
    """Each request changes its own copy of the session: refreshing the activity time through one
    request gives the new time to the new cookie only, never to the old text seen before."""
    old = _cookie(parent_client)
    token = csrf_token(parent_client, "/")
    old = _cookie(parent_client)  # with the page's CSRF token
    assert _with_cookie(app, old).get("/").status_code == 200
    demo.clock.advance(timedelta(minutes=20))
    refreshed = _with_cookie(app, old)
    assert refreshed.post("/session/prolonger", data={"csrf_token": token}).status_code == 302
    assert _cookie(refreshed) != old
    demo.clock.advance(timedelta(minutes=15))  # 35 minutes after the old cookie's activity
    assert refreshed.get("/").status_code == 200  # 15 minutes after the refresh: still open
    assert _refused(_with_cookie(app, old).get("/"))  # the idle timeout is 30 minutes


def test_a_message_flashed_by_one_request_stays_out_of_the_others_sent_with_the_same_cookie(
    parent_client: FlaskClient, app: Flask
) -> None:
    """A cookie holding messages is decoded for each request (its list is never shared between
    requests): a request that adds a message changes its own session only."""
    token = csrf_token(parent_client, "/")
    with parent_client.session_transaction() as session:
        session["_flashes"] = [("info", "Message de test.")]
    cookie = _cookie(parent_client)
    revoke = {"csrf_token": token, "action": "revoke"}
    assert _with_cookie(app, cookie).post("/agenda/abonnement", data=revoke).status_code == 302
    page = _with_cookie(app, cookie).get("/").get_data(as_text=True)
    assert page.count("Message de test.") == 1
    assert "révoqué" not in page  # the other request's message
