"""docs/deployment.md, followed (issue 14, point 5; PostgreSQL, in CI): the page's configuration
file and secrets, ``famille init``, the production server with its worker, then the demo parent
logs in over real HTTP through the headers the page's nginx sends, and opens the home page.

The configuration is the page's own TOML block, with two changes a test needs: e-mail goes to the
outbox folder instead of an SMTP server, and the server listens on a free port.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from famille_core import Portal
from tests.production_server import FAMILLE, Browser, famille, famille_env, production_server, stop

DOC = Path(__file__).resolve().parents[1] / "docs" / "deployment.md"
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

pytestmark = pytest.mark.postgres


def documented_config() -> str:
    """The page's ``famille.toml``, its [mail] table sending to the outbox folder."""
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert block, "docs/deployment.md has no TOML block"
    config = block.group(1)
    head, _mail, _rest = config.partition("[mail]")
    config = head + '[mail]\nmode = "outbox"\ndelivery = "queue"\n'
    settings = tomllib.loads(config)
    assert settings["portal"]["production"] is True and settings["portal"]["trusted_proxies"] == 1
    assert settings["logging"]["format"] == "json"
    return config


def documented_units() -> dict[str, str]:
    """The ``ExecStart`` of the web and worker units the page shows, without the venv's path."""
    text = DOC.read_text(encoding="utf-8")
    found = {}
    for unit in ("famille-web", "famille-worker"):
        section = text.split(f"/etc/systemd/system/{unit}.service", 1)[1]
        found[unit] = re.search(r"ExecStart=\S+/famille (.*)", section).group(1)  # type: ignore[union-attr]
    return found


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> dict[str, str]:
    instance = tmp_path_factory.mktemp("srv-famille") / "instance"
    instance.mkdir()
    config = instance.parent / "famille.toml"
    config.write_text(documented_config(), encoding="utf-8")
    return famille_env(
        instance,
        database_url,
        FAMILLE_CONFIG=str(config),
        FAMILLE_SECRET_KEY=secrets.token_urlsafe(48),
    )


@pytest.fixture
def worker(town: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    command = documented_units()["famille-worker"].split()
    assert command == ["worker"]
    process = subprocess.Popen(
        [*FAMILLE, *command],
        env=town,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    yield process
    stop(process)


def test_the_deployment_guide_serves_a_town_with_its_worker(
    portal: Portal, town: dict[str, str], worker: subprocess.Popen[str], tmp_path: Path
) -> None:
    # ``portal`` empties the suite's database afterwards; the commands fill it.
    assert documented_units()["famille-web"] == "serve --production"
    famille(town, "init")
    famille(town, "demo")
    log = tmp_path / "web.log"
    with production_server(town, log=log) as server:
        base = server.base
        browser = Browser(base, headers={**PROXY, "X-Request-ID": "nginx-request-0001"})
        assert browser.get("/sante").status == 200
        answer = browser.login("parent@example.org", "parent-demo-password")
        assert answer.status == 302, answer.text
        assert "Secure" in answer.headers["Set-Cookie"]  # production = true behind TLS
        home = browser.get("/")
        assert home.status == 200 and "Marie" in home.text
        assert home.headers["X-Request-ID"] == "nginx-request-0001"
        # The worker sends what the web processes queue (a password-reset e-mail).
        visitor = Browser(base, headers=PROXY)
        token = visitor.csrf_token("/mot-de-passe-oublie")
        sent = visitor.post(
            "/mot-de-passe-oublie", {"email": "parent@example.org", "csrf_token": token}
        )
        assert sent.status in (200, 302, 303)
        outbox = Path(town["FAMILLE_INSTANCE"]) / "outbox"
        deadline = time.monotonic() + 120
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert list(outbox.glob("*.eml")), "the worker sent nothing"
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any(
        "GET / HTTP/1.1" in line["message"] and line["request_id"] == "nginx-request-0001"
        for line in access
    )
    assert any(line["message"].startswith("203.0.113.9 ") for line in access)  # the client
    text = log.read_text(encoding="utf-8")
    assert "parent-demo-password" not in text and browser.cookies["famille_session"] not in text
