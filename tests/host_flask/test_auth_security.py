"""Authentication and session security (security.md points 1–6, 9, 16, 30, 31)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from famille_core.entities import User
from famille_core.services.passwords import password_issues
from tests.conftest import csrf_token, login

PARENT = ("parent@example.org", "parent-demo-password")


def _normalise(body: str) -> str:
    """A login page without its per-request CSRF token and typed e-mail."""
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", body)
    return re.sub(r'id="email"[^>]*value="[^"]*"', "", body)


def test_password_hash_is_argon2id(demo) -> None:
    with demo.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert "parent-demo-password" not in user.password_hash


def test_common_or_context_passwords_are_refused() -> None:
    assert password_issues("Mairie2024!")
    assert password_issues("famille-dupont-2024")
    assert password_issues("harmonie-soleil-1", context_words=("Harmonie",))
    assert password_issues("court")


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=12, max_size=64)
)
def test_long_random_passwords_are_accepted(password: str) -> None:
    folded = password.casefold()
    if any(
        word in folded
        for word in (
            "mairie",
            "famille",
            "portail",
            "azerty",
            "qwerty",
            "123456",
            "motdepasse",
            "soleil",
            "bonjour",
            "cantine",
            "enfance",
            "ecole",
            "admin",
        )
    ):
        return
    assert password_issues(password) == []


def test_login_then_home_shows_menu(parent_client: FlaskClient) -> None:
    page = parent_client.get("/").get_data(as_text=True)
    assert "<h1>Accueil</h1>" in page
    for label in ("Mon compte", "Boîte de réception", "Agenda", "Factures"):
        assert label in page


def test_wrong_password_gets_a_french_error(demo, client: FlaskClient) -> None:
    response = login(client, "parent@example.org", "mauvais-mot-de-passe")
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_and_known_logins_get_identical_answers(demo, app: Flask) -> None:
    known = login(app.test_client(), "parent@example.org", "wrong-password-123")
    unknown = login(app.test_client(), "nobody@example.org", "wrong-password-123")
    assert known.status_code == unknown.status_code == 200
    assert _normalise(known.get_data(as_text=True)) == _normalise(unknown.get_data(as_text=True))


def test_sixth_quick_failure_is_throttled(demo, app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "parent@example.org", "wrong-password-123").status_code == 200
    throttled = login(client, "parent@example.org", "wrong-password-123")
    assert throttled.status_code == 429
    assert "Trop de tentatives" in throttled.get_data(as_text=True)
    # Even the right password waits for the window to pass: no oracle while throttled.
    assert login(client, *PARENT).status_code == 429


def test_account_is_throttled_across_addresses(demo, app: Flask) -> None:
    for attempt in range(10):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt}"
        assert login(client, "parent@example.org", "wrong-password-123").status_code == 200
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    assert login(client, "parent@example.org", "wrong-password-123").status_code == 429


def test_successful_logins_are_not_throttled(demo, app: Flask) -> None:
    for _ in range(8):
        assert login(app.test_client(), *PARENT).status_code == 302


def test_session_cookie_replayed_after_logout_is_refused(
    parent_client: FlaskClient, app: Flask
) -> None:
    cookie = parent_client.get_cookie("famille_session")
    assert cookie is not None
    stolen = cookie.value
    token = csrf_token(parent_client, "/")
    assert parent_client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("famille_session", stolen)
    response = replay.get("/")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_idle_session_expires(parent_client: FlaskClient, demo) -> None:
    from datetime import timedelta

    assert parent_client.get("/").status_code == 200
    demo.clock.advance(timedelta(minutes=31))
    response = parent_client.get("/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(parent_client: FlaskClient) -> None:
    response = parent_client.post("/deconnexion")
    assert response.status_code == 400
    assert "Requête invalide" in response.get_data(as_text=True)
    # Still logged in: the refused request changed nothing.
    assert parent_client.get("/").status_code == 200


def test_login_post_without_csrf_is_refused(demo, client: FlaskClient) -> None:
    response = client.post("/connexion", data={"email": PARENT[0], "password": PARENT[1]})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_open_redirect_after_login_is_ignored(demo, client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/connexion?next=//evil.example/",
        data={"email": PARENT[0], "password": PARENT[1], "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/connexion", "/mentions-legales", "/n-existe-pas"])
def test_security_headers_on_pages_and_error_pages(client: FlaskClient, portal, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(demo, client: FlaskClient) -> None:
    response = login(client, *PARENT)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_every_non_public_route_refuses_anonymous_clients(app: Flask, client: FlaskClient) -> None:
    from host_flask.access import audience_of

    public = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or audience_of(view) == "public":
            public.add(rule.endpoint)
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code in (302, 400, 401, 404), (
                rule.rule,
                method,
                response.status_code,
            )
            if response.status_code == 302:
                assert "/connexion" in response.headers["Location"]
    assert {"auth.login", "pages.legal", "pages.accessibility", "pages.privacy"} <= public


def test_unexpected_error_shows_no_stack_trace(app: Flask, portal) -> None:
    from host_flask.access import public

    @public
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internal detail" not in body and "Traceback" not in body
    assert "Une erreur inattendue est survenue" in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_nul_byte_in_a_form_is_refused_before_any_view(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post(
        "/connexion",
        data={"email": "parent@example.org\x00", "password": "x", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400
