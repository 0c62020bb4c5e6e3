"""Authentication and session security (docs/security.md points 1–6, 9, 16, 30, 31)."""

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


def test_a_session_in_use_stays_open_and_its_idle_time_counts_from_the_recorded_activity(
    parent_client: FlaskClient, demo
) -> None:
    """The last activity is recorded at most once a minute (host_flask/sessions.py,
    SEEN_REFRESH): a person clicking every 50 seconds for an hour stays logged in, and the idle
    timeout can come up to a minute earlier than the last click, never later."""
    from datetime import timedelta

    for _ in range(72):  # an hour of clicks, 50 s apart
        demo.clock.advance(timedelta(seconds=50))
        assert parent_client.get("/").status_code == 200
    demo.clock.advance(timedelta(minutes=2))
    assert parent_client.get("/").status_code == 200  # recorded: more than a minute since
    demo.clock.advance(timedelta(seconds=30))
    assert parent_client.get("/").status_code == 200  # not recorded: 30 s only
    demo.clock.advance(timedelta(minutes=29, seconds=45))  # 30 min 15 s after the recorded click
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


def test_login_rehashes_a_password_stored_with_weaker_parameters(demo, app: Flask) -> None:
    """docs/security.md point 1: older Argon2 parameters are upgraded at the next login."""
    from argon2 import PasswordHasher

    from famille_core.services.passwords import needs_rehash, verify_password

    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PARENT[1])
    with demo.unit_of_work() as uow:
        user = uow.first(User, email=PARENT[0])
        assert user is not None
        user.password_hash = weak
        uow.commit()
    assert needs_rehash(weak)
    assert login(app.test_client(), *PARENT).status_code == 302
    with demo.unit_of_work() as uow:
        stored = uow.first(User, email=PARENT[0]).password_hash  # type: ignore[union-attr]
    assert stored != weak and stored.startswith("$argon2id$")
    assert not needs_rehash(stored)
    assert verify_password(stored, PARENT[1])
    assert login(app.test_client(), *PARENT).status_code == 302


@pytest.mark.parametrize("production", [True, False])
def test_hsts_and_secure_cookies_only_in_production(portal, production: bool) -> None:
    """docs/security.md point 30: HSTS and ``Secure`` cookies when ``production = true``."""
    from famille_core import settings_from_mapping
    from famille_core.demo import populate
    from famille_core.persistence import build_sql_portal
    from host_flask import create_app

    settings = settings_from_mapping(
        {
            "portal": {"secret_key": "test-secret-key-not-for-production", "production": production},
            "mail": {"delivery": "worker"},  # no background sender over the shared test database
        }
    )
    own = build_sql_portal(
        settings, portal.storage, clock=portal.clock, instance_path=portal.instance_path
    )
    with own.unit_of_work() as uow:
        populate(own, uow)
        uow.commit()
    client = create_app({"TESTING": True}, portal=own).test_client()
    page = client.get("/connexion")
    # In production the test client speaks HTTPS (PREFERRED_URL_SCHEME), where Flask-WTF also
    # wants a same-site Referer.
    answer = client.post(
        "/connexion",
        data={"email": PARENT[0], "password": PARENT[1], "csrf_token": csrf_token(client)},
        headers={"Referer": "https://localhost/connexion"},
    )
    assert answer.status_code == 302
    cookies = answer.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("famille_session="))
    device_cookie = next(c for c in cookies if c.startswith("famille_device="))
    if production:
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in session_cookie and "Secure" in device_cookie
    else:
        assert "Strict-Transport-Security" not in page.headers
        assert "Secure" not in session_cookie and "Secure" not in device_cookie


def test_argon2_checks_at_once_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/security.md point 35: a burst of logins waits its turn instead of taking 64 MiB each."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from famille_core.services import passwords

    running = 0
    most = 0
    lock = threading.Lock()

    class SlowHasher:
        def verify(self, _stored: str, _password: str) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return True

    monkeypatch.setattr(passwords, "_hasher", SlowHasher())
    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(lambda _: passwords.verify_password("h", "p"), range(32)))
    assert 1 <= most <= passwords.CONCURRENT_HASHES


def test_a_template_rendered_outside_a_request_does_not_need_a_session(app: Flask) -> None:
    """A PDF or an e-mail rendered by a background job has no request: the host's context (the
    idle warning's countdown read from the session) must not break it."""
    from flask import render_template_string

    with app.app_context():
        text = render_template_string("{{ current_user }} {{ session_idle_seconds > 0 }}")
    assert text == "None True"


def test_unknown_logins_are_checked_against_a_hash_of_todays_parameters() -> None:
    """docs/security.md point 4: an unknown login costs as much as a known one, so the dummy
    hash it is checked against (kept as text: no hash at each process start) has the
    hasher's parameters, and is a real hash that no password given matches."""
    from famille_core.services.passwords import DUMMY_HASH, needs_rehash, verify_password

    assert DUMMY_HASH.startswith("$argon2id$")
    assert not needs_rehash(DUMMY_HASH)
    assert verify_password(DUMMY_HASH, "not-a-real-password-but-costs-the-same")
    assert not verify_password(DUMMY_HASH, PARENT[1])
