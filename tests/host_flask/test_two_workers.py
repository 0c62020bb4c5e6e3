"""Two real worker processes behave as one portal (issue 14, point 2): two production servers
(``famille serve --production``, one gunicorn worker each, so the test chooses who answers) on
two ports over the same database — what two hosts behind a load balancer are. On the suite's
database (SQLite file or PostgreSQL), the attempt counters in the database and in Redis.

Without shared state each would fail: counters kept in a process would let ten failures through
(five per worker), a key generated per process would refuse the other worker's cookies, and a
revocation remembered in one process would leave the session alive on the other.
"""

from __future__ import annotations

import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from famille_core import Portal
from tests.production_server import (
    Browser,
    Served,
    famille_env,
    production_server,
    redis_or_skip,
)

PARENT = ("parent@example.org", "parent-demo-password")
REDIS_URL = "redis://127.0.0.1:6379/3"
CONFIG = """\
[mail]
delivery = "worker"

[server]
workers = 1
graceful_timeout_seconds = 5
"""


def _pair(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, **extra: str
) -> Iterator[tuple[Served, Served]]:
    """Two servers (two instance folders: nothing shared but the configuration's contents, the
    secret key and the database)."""
    key = secrets.token_urlsafe(32)  # per run: Redis keys of another run never collide
    envs = []
    for name in ("one", "two"):
        folder = tmp_path_factory.mktemp(f"host-{name}")
        (folder / "famille.toml").write_text(CONFIG, encoding="utf-8")
        envs.append(famille_env(folder, database_url, FAMILLE_SECRET_KEY=key, **extra))
    log = envs[0]["FAMILLE_INSTANCE"] + "/server.log"
    with production_server(envs[0], log=Path(log)) as one, production_server(envs[1]) as two:
        yield one, two


@pytest.fixture(scope="module")
def hosts(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[tuple[Served, Served]]:
    yield from _pair(tmp_path_factory, database_url)


@pytest.fixture(scope="module")
def redis_hosts(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[tuple[Served, Served]]:
    redis_or_skip(REDIS_URL)
    # No clean-up: the keys are hashed with this run's key, so no other run (another database's
    # suite on the same Redis) reads them, and they expire within the hour of the limits.
    yield from _pair(tmp_path_factory, database_url, FAMILLE_LIMITER_STORAGE=REDIS_URL)


def _failure(base: str) -> int:
    return Browser(base).login(PARENT[0], "wrong-password-123").status


@pytest.mark.parametrize("store", ["hosts", "redis_hosts"])
def test_the_sixth_quick_failure_is_refused_whichever_worker_answers(
    demo: Portal, store: str, request: pytest.FixtureRequest
) -> None:
    one, two = (server.base for server in request.getfixturevalue(store))
    for attempt in range(5):
        assert _failure((one, two)[attempt % 2]) == 200  # the form again, with its message
    assert _failure(one) == 429
    assert _failure(two) == 429
    assert Browser(two).login(*PARENT).status == 429  # the right password is not even checked


def test_a_revoked_session_is_refused_by_both_workers(
    demo: Portal, hosts: tuple[Served, Served]
) -> None:
    one, two = hosts[0].base, hosts[1].base
    first = Browser(one)
    assert first.login(*PARENT).status == 302
    second = Browser(two)
    assert second.login(*PARENT).status == 302
    for browser in (first, second, first.at(two), second.at(one)):  # one key, one session
        assert browser.get("/").status == 200
    stale = [first.at(one), first.at(two), second.at(one), second.at(two)]
    token = first.csrf_token("/")
    assert first.post("/deconnexion", {"csrf_token": token}).status == 302
    for browser in stale:  # logging out ends every session of the account, on every worker
        answer = browser.get("/")
        assert answer.status == 302 and "/connexion" in answer.headers["Location"]


def test_sighup_replaces_the_workers_without_refusing_a_request(
    demo: Portal, hosts: tuple[Served, Served]
) -> None:
    """The graceful restart of docs/deployment.md: ``systemctl reload`` sends SIGHUP."""
    server = hosts[0]
    assert server.log is not None

    def booted() -> list[str]:
        return re.findall(r"Booting worker with pid: (\d+)", server.log.read_text(encoding="utf-8"))  # type: ignore[union-attr]

    before = booted()
    browser = Browser(server.base)
    assert browser.login(*PARENT).status == 302
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 120
    answers = []
    while len(booted()) == len(before) and time.monotonic() < deadline:
        answers.append(browser.get("/").status)  # a logged-in page, all along
    for _ in range(3):
        answers.append(browser.get("/").status)
    assert len(booted()) > len(before), "no new worker after SIGHUP"
    assert set(answers) == {200}
    assert Browser(server.base).get("/sante").status == 200
