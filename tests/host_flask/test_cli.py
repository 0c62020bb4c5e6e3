"""The ``famille`` command line, run as a person would, in a fresh instance folder (SQLite)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.started_server import first_page

FAMILLE = [sys.executable, "-c", "from host_flask.cli import main; main()"]


def environment(instance: Path, config: Path | None = None) -> dict[str, str]:
    """The environment of a fresh install: this instance folder, its SQLite database."""
    env = {**os.environ, "FAMILLE_INSTANCE": str(instance)}
    env.pop("FAMILLE_DATABASE_URL", None)
    if config is not None:
        env["FAMILLE_CONFIG"] = str(config)
    return env


def run(instance: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = environment(instance, config)
    return subprocess.run(
        [*FAMILLE, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def test_init_demo_and_plugins(instance: Path) -> None:
    result = run(instance, "init")
    assert result.returncode == 0, result.stderr
    assert (instance / "famille.sqlite").exists()
    result = run(instance, "demo")
    assert result.returncode == 0, result.stderr
    assert "parent@example.org" in result.stdout and "parent-demo-password" in result.stdout
    assert "agent@example.org" in result.stdout and "agent-demo-password" in result.stdout
    config = instance / "famille.toml"
    assert 'numcli = "021289"' in config.read_text(encoding="utf-8")  # the guide's régie
    config.write_text(config.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    # Twice is harmless: the demo is created once, the edited configuration kept.
    assert run(instance, "demo").returncode == 0
    assert config.read_text(encoding="utf-8").endswith("# edited\n")
    result = run(instance, "plugins")
    assert result.returncode == 0, result.stderr
    for name in ("profile", "inbox", "calendar", "billing", "tipi_payment"):
        assert re.search(rf"^{name} \S+", result.stdout, flags=re.M), result.stdout
    assert "menu_items" in result.stdout


def test_create_user_checks_the_password_policy(instance: Path) -> None:
    assert run(instance, "init").returncode == 0
    weak = run(
        instance,
        "create-user",
        "--email",
        "a@example.org",
        "--role",
        "agent",
        "--name",
        "A",
        "--password",
        "Mairie2024!",
    )
    assert weak.returncode != 0
    assert "mot de passe" in weak.stderr.lower()
    good = run(
        instance,
        "create-user",
        "--email",
        "a@example.org",
        "--role",
        "agent",
        "--name",
        "A",
        "--service",
        "ENFANCE",
        "--password",
        "une phrase de passe assez longue",
    )
    assert good.returncode == 0, good.stderr


def test_bad_configuration_stops_with_a_clear_message(instance: Path, tmp_path: Path) -> None:
    config = tmp_path / "famille.toml"
    config.write_text('[portal]\nplugins = ["inbox", "cantine_magique"]\n', encoding="utf-8")
    result = run(instance, "plugins", config=config)
    assert result.returncode == 2
    assert "cantine_magique" in result.stderr and "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_lets_the_demo_parent_log_in(instance: Path) -> None:
    assert run(instance, "init").returncode == 0
    assert run(instance, "demo").returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*FAMILLE, "serve", "--port", str(port)],
        env=environment(instance),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = first_page(opener, f"{base}/connexion", server)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode(
            {"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token}
        ).encode()
        home = opener.open(f"{base}/connexion", data=data, timeout=10).read().decode()
        assert "<h1>Accueil</h1>" in home
        assert "Agenda" in home and "Factures" in home
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_purge_command_reports_what_it_removes(instance: Path) -> None:
    assert run(instance, "init").returncode == 0
    assert run(instance, "demo").returncode == 0
    result = run(instance, "purge", "--dry-run")
    assert result.returncode == 0, result.stderr
    # The demo children are all enrolled this school year: nothing to purge.
    assert "Simulation (rien n'a été supprimé) : 0 enfant(s)" in result.stdout
