"""One attempt limiter, counted before the check and shared by every worker (findings 3, 4, 23;
docs/security.md points 3, 35, 36).

The review sent 49 wrong passwords and the right one at once against a 10-per-hour account limit:
all were checked and the login succeeded; behind a proxy every client shared one address; counts
lived in each process; and ten failures an hour locked the owner out for good.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from famille_core import FixedClock, Portal, settings_from_mapping
from famille_core.persistence import build_sql_portal, make_engine
from famille_core.services import accounts
from host_flask import create_app
from host_flask.attempts import DatabaseStorage
from tests.conftest import DEFAULT_NOW, csrf_token, login
from tests.e2e_fixtures import serving
from tests.production_server import redis_or_skip

PARENT = ("parent@example.org", "parent-demo-password")
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Where the counters live: the portal's database, or Redis under a key prefix of its own."""
    if request.param == "database":
        yield {"settings": {}, "config": {}}
        return
    client = redis_or_skip(REDIS_URL)
    namespace = f"test-{uuid.uuid4().hex}"
    yield {
        "settings": {"limiter_storage": REDIS_URL},
        "config": {"FAMILLE_ATTEMPTS_NAMESPACE": namespace},
    }
    for key in client.scan_iter(f"*LIMITER/{namespace}/*"):
        client.delete(key)


def _worker(
    demo: Portal,
    database_url: str,
    settings_data: dict[str, Any],
    store: dict[str, Any],
    **portal: Any,
) -> Flask:
    """One more application over the test database, with its own engine and portal: what a
    second worker process or host would be."""
    data = {
        **settings_data,
        "portal": {**settings_data["portal"], **store["settings"], **portal},
        "mail": {"delivery": "worker"},  # no background sender over the shared test database
    }
    own = build_sql_portal(
        settings_from_mapping(data),
        make_engine(database_url),
        clock=FixedClock(DEFAULT_NOW),
        instance_path=demo.instance_path,
    )
    return create_app({"TESTING": True, **store["config"]}, portal=own)


def _address(client: FlaskClient, address: str) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_the_database_store_counts_atomically(engine: Engine, portal: Portal) -> None:
    storage = DatabaseStorage(engine)
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=-1) == 2
    assert storage.get("k") == 2 and storage.get_expiry("k") > time.time()
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.incr("short", 0) == 1  # an expired window starts again from one
    assert storage.incr("short", 0) == 1


def test_simultaneous_increments_of_the_database_store_lose_no_attempt(
    engine: Engine, portal: Portal
) -> None:
    """Eight workers increment one counter at once: every count is handed out once and none is
    lost (a counter read, then written, gives two workers the same count)."""
    storage = DatabaseStorage(engine)
    barrier = threading.Barrier(8)

    def hit(_worker: int) -> list[int]:
        barrier.wait(timeout=30)
        return [storage.incr("together", 60) for _ in range(5)]

    with ThreadPoolExecutor(8) as pool:
        counts = [count for batch in pool.map(hit, range(8)) for count in batch]
    assert sorted(counts) == list(range(1, 41))
    assert storage.get("together") == 40


def test_thirty_simultaneous_wrong_logins_check_at_most_the_limit(
    demo: Portal,
    database_url: str,
    settings_data: dict[str, Any],
    store: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Acceptance: 30 at once, one account, one address → no more than the limit (5) reach
    Argon2; the right password is then refused until the window passes, then accepted."""
    window = 20  # seconds: long enough for the burst to fall in one window on a loaded machine
    app = _worker(
        demo,
        database_url,
        settings_data,
        store,
        login_limit=f"5 per {window} seconds",
        login_account_limit=f"10 per {window} seconds",
    )
    checked: list[str] = []
    real_verify = accounts.verify_password

    def counting_verify(stored_hash: str, password: str) -> bool:
        checked.append(password)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)
    with serving(app) as url:
        browsers = [requests.Session() for _ in range(30)]
        tokens = [_token(browser.get(f"{url}/connexion").text) for browser in browsers]
        start = threading.Barrier(30)

        def attempt(index: int) -> int:
            start.wait()
            answer = browsers[index].post(
                f"{url}/connexion",
                data={"email": PARENT[0], "password": f"wrong-{index}", "csrf_token": tokens[index]},
                allow_redirects=False,
            )
            return answer.status_code

        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(attempt, range(30)))
        burst_over = time.monotonic()
        assert 1 <= len(checked) <= 5, len(checked)
        assert statuses.count(200) == len(checked)
        assert statuses.count(429) == 30 - len(checked)

        browser = browsers[0]
        right = {"email": PARENT[0], "password": PARENT[1], "csrf_token": tokens[0]}
        refused = browser.post(f"{url}/connexion", data=right, allow_redirects=False)
        assert refused.status_code == 429
        assert len(checked) <= 5  # refused without reaching Argon2

        time.sleep(max(0.0, burst_over + window + 0.5 - time.monotonic()))
        accepted = browser.post(f"{url}/connexion", data=right, allow_redirects=False)
        assert accepted.status_code == 302


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_the_sixth_failure_is_refused_whichever_worker_answers(
    demo: Portal, database_url: str, settings_data: dict[str, Any], store: dict[str, Any]
) -> None:
    one = _worker(demo, database_url, settings_data, store)
    two = _worker(demo, database_url, settings_data, store)
    for attempt in range(5):
        worker = (one, two)[attempt % 2]
        assert login(worker.test_client(), PARENT[0], "wrong-password-123").status_code == 200
    assert login(one.test_client(), PARENT[0], "wrong-password-123").status_code == 429
    assert login(two.test_client(), PARENT[0], "wrong-password-123").status_code == 429
    assert login(two.test_client(), *PARENT).status_code == 429


@pytest.fixture
def behind_one_proxy(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"] = {**settings_data["portal"], "trusted_proxies": 1}
    return settings_data


def _fail_from(client: FlaskClient, forwarded: str, email: str) -> int:
    token = csrf_token(client)
    answer = client.post(
        "/connexion",
        data={"email": email, "password": "wrong-password-123", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded},
    )
    return int(answer.status_code)


def test_behind_a_trusted_proxy_each_client_has_its_own_count(
    demo: Portal, database_url: str, settings_data: dict[str, Any]
) -> None:
    app = _worker(demo, database_url, settings_data, {"settings": {}, "config": {}}, trusted_proxies=1)
    proxy = app.test_client()  # every request comes from the proxy's own address
    for attempt in range(5):
        assert _fail_from(proxy, "203.0.113.1", f"inconnu{attempt}@example.org") == 200
    assert _fail_from(proxy, "203.0.113.1", "inconnu9@example.org") == 429
    # Another client behind the same proxy is not held back by the first one's failures.
    assert _fail_from(proxy, "203.0.113.2", "inconnu9@example.org") == 200
    # A client writing its own header: the proxy appends the real address, which is the one used.
    assert _fail_from(proxy, "198.51.100.7, 203.0.113.1", "inconnu8@example.org") == 429


def test_without_a_trusted_proxy_a_forged_header_changes_nothing(demo: Portal, app: Flask) -> None:
    client = app.test_client()
    for attempt in range(5):
        assert _fail_from(client, f"198.51.100.{attempt}", f"inconnu{attempt}@example.org") == 200
    assert _fail_from(client, "198.51.100.99", "inconnu9@example.org") == 429


def _owner_browser(app: Flask) -> FlaskClient:
    """The owner's own browser, where the account logged in before (it holds a device cookie)."""
    browser = _address(app.test_client(), "192.0.2.10")
    assert login(browser, *PARENT).status_code == 302
    assert browser.get_cookie("famille_device", path="/connexion") is not None
    browser.post("/deconnexion", data={"csrf_token": csrf_token(browser, "/")})
    return browser


def test_an_attacker_failing_forever_does_not_lock_the_owner_out(demo: Portal, app: Flask) -> None:
    owner = _owner_browser(app)
    for attempt in range(12):  # ten an hour from anywhere, then more
        attacker = _address(app.test_client(), f"10.0.0.{attempt}")
        expected = 200 if attempt < 10 else 429
        assert login(attacker, PARENT[0], "wrong-password-123").status_code == expected
    # A stranger's browser, even with the right password, waits for the window (no oracle)…
    assert login(_address(app.test_client(), "10.0.1.1"), *PARENT).status_code == 429
    # …the owner's browser gets in…
    assert login(owner, *PARENT).status_code == 302
    # …and the attacker is still limited.
    assert login(_address(app.test_client(), "10.0.2.1"), PARENT[0], "guess-123456").status_code == 429


def test_the_owners_browser_is_limited_on_its_own(demo: Portal, app: Flask) -> None:
    owner = _owner_browser(app)
    for attempt in range(10):
        owner.environ_base["REMOTE_ADDR"] = f"192.0.2.{20 + attempt}"  # dodging the address limit
        assert login(owner, PARENT[0], "wrong-password-123").status_code == 200
    owner.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert login(owner, *PARENT).status_code == 429


def test_a_device_cookie_of_another_account_does_not_help(demo: Portal, app: Flask) -> None:
    attacker = _address(app.test_client(), "10.0.0.1")
    assert login(attacker, "agent@example.org", "agent-demo-password").status_code == 302
    for attempt in range(10):
        attacker = _address(attacker, f"10.0.0.{attempt + 2}")
        assert login(attacker, PARENT[0], "wrong-password-123").status_code == 200
    assert login(_address(attacker, "10.0.0.99"), *PARENT).status_code == 429


def test_a_password_reset_lets_the_owner_in_from_a_new_browser(demo: Portal, app: Flask) -> None:
    from tests.host_flask.test_password_reset import _request_reset, _reset, _reset_link

    for attempt in range(10):
        attacker = _address(app.test_client(), f"10.0.0.{attempt}")
        assert login(attacker, PARENT[0], "wrong-password-123").status_code == 200
    new_phone = _address(app.test_client(), "192.0.2.50")
    assert login(new_phone, *PARENT).status_code == 429
    _request_reset(new_phone, PARENT[0])
    assert _reset(new_phone, _reset_link(demo), "une phrase de passe neuve").status_code == 302
    assert login(new_phone, PARENT[0], "une phrase de passe neuve").status_code == 302


def test_the_limiter_is_shared_by_every_secret(demo: Portal, app: Flask) -> None:
    """Reset requests are counted before anything is sent (and answer 429 alike for known and
    unknown addresses)."""
    client = app.test_client()
    statuses = []
    for email in ["parent@example.org", "inconnu@example.org"] * 3:
        token = csrf_token(client, "/mot-de-passe-oublie")
        statuses.append(
            client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token}).status_code
        )
    assert statuses == [302] * 5 + [429]


def test_re_authentication_and_password_change_share_the_password_limits(
    demo: Portal, parent_client: FlaskClient
) -> None:
    """A stolen session cannot guess the password through /connexion/confirmer or
    /mon-mot-de-passe: they count with the login, before Argon2."""
    for _ in range(3):
        wrong = parent_client.post(
            "/connexion/confirmer",
            data={"password": "devine-123456", "csrf_token": csrf_token(parent_client, "/")},
        )
        assert wrong.status_code == 422
    for _ in range(2):
        wrong = parent_client.post(
            "/mon-mot-de-passe",
            data={
                "current": "devine-123456",
                "password": "une phrase toute neuve",
                "confirm": "une phrase toute neuve",
                "csrf_token": csrf_token(parent_client, "/"),
            },
        )
        assert wrong.status_code == 422
    right = parent_client.post(
        "/connexion/confirmer",
        data={"password": PARENT[1], "csrf_token": csrf_token(parent_client, "/")},
    )
    assert right.status_code == 429


def test_a_limiter_store_that_is_down_refuses_logins_with_a_french_page(
    demo: Portal, database_url: str, settings_data: dict[str, Any]
) -> None:
    """The store fails closed (docs/security.md point 3): with Redis unreachable nobody's secret
    is checked uncounted — the person reads a French "try later" page, not a bare 500."""
    pytest.importorskip("redis")
    down = {"settings": {"limiter_storage": "redis://127.0.0.1:1/0"}, "config": {}}
    app = _worker(demo, database_url, settings_data, down)
    answer = login(app.test_client(), *PARENT)
    assert answer.status_code == 503
    page = answer.get_data(as_text=True).replace("&#39;", "'")
    assert "momentanément indisponible" in page
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "famille_session" not in answer.headers.get("Set-Cookie", "")
