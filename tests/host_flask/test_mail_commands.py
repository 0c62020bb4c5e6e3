"""``famille send-mail``, ``famille mail-status`` and the demo's background sender, run as an
operator would, in a fresh instance folder (SQLite)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from famille_core import load_settings
from famille_core.mail_queue import queue_email
from famille_core.persistence import build_sql_portal
from tests.host_flask.test_cli import FAMILLE, _free_port, environment, run
from tests.started_server import first_page


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    assert run(folder, "init").returncode == 0
    return folder


def configure(instance: Path, mail: str) -> None:
    (instance / "famille.toml").write_text(f"[mail]\n{mail}\n", encoding="utf-8")


def queue_one(instance: Path) -> None:
    """What any change of the portal does: queue an e-mail in its transaction."""
    settings = load_settings(instance / "famille.toml")
    portal = build_sql_portal(
        settings, f"sqlite:///{instance / 'famille.sqlite'}", instance_path=instance
    )
    with portal.unit_of_work() as uow:
        queue_email(portal, uow, to="parent@example.org", subject="Objet", body="Texte")
        uow.commit()
    portal.storage.dispose()


def wait_for_mail(folder: Path) -> list[Path]:
    deadline = time.monotonic() + 60
    while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return list(folder.glob("*.eml"))


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_an_operator_sees_failures_and_sends_them_again(instance: Path, closed_port: int) -> None:
    configure(
        instance,
        f'delivery = "worker"\nmode = "smtp"\nhost = "127.0.0.1"\nport = {closed_port}\n'
        "max_attempts = 1",
    )
    queue_one(instance)
    status = run(instance, "mail-status")
    assert status.returncode == 0, status.stderr
    assert "en attente : 1 (dont 1 à envoyer maintenant)" in status.stdout
    sent = run(instance, "send-mail")
    assert sent.returncode == 0, sent.stderr
    assert "0 envoyé(s), 0 à réessayer plus tard, 1 en échec." in sent.stdout
    status = run(instance, "mail-status")
    assert status.returncode == 1  # for monitoring
    assert "en échec : 1" in status.stdout and "ConnectionRefusedError" in status.stdout
    assert "parent@example.org" not in status.stdout + status.stderr
    configure(instance, 'delivery = "worker"\nmode = "outbox"')
    again = run(instance, "send-mail", "--retry-failed")
    assert again.returncode == 0, again.stderr
    assert "1 e-mail(s) en échec remis en attente." in again.stdout
    assert "1 envoyé(s)" in again.stdout
    assert len(list((instance / "outbox").glob("*.eml"))) == 1
    status = run(instance, "mail-status")
    assert status.returncode == 0 and "en échec : 0" in status.stdout


def test_send_mail_loop_sends_what_is_queued_and_stops_on_sigterm(instance: Path) -> None:
    configure(instance, 'delivery = "worker"\nmode = "outbox"')
    worker = subprocess.Popen(
        [*FAMILLE, "send-mail", "--loop", "--interval", "0.5"],
        env=environment(instance),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        queue_one(instance)
        assert len(wait_for_mail(instance / "outbox")) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    assert "Envoi arrêté." in output


def test_the_demo_server_and_its_worker_send_the_emails(tmp_path: Path) -> None:
    """``make demo``: ``famille serve`` and the ``famille worker`` the Makefile starts with it put
    the e-mails in ``instance/outbox/``; the web process only wakes the worker."""
    instance = tmp_path / "instance"
    assert run(instance, "init").returncode == 0
    assert run(instance, "demo").returncode == 0
    assert 'delivery = "queue"' in (instance / "famille.toml").read_text(encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen(
        [*FAMILLE, "serve", "--port", str(port)],
        env=environment(instance),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [*FAMILLE, "worker"],
        env=environment(instance),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = first_page(opener, f"{base}/mot-de-passe-oublie", server)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({"email": "parent@example.org", "csrf_token": token})
        opener.open(f"{base}/mot-de-passe-oublie", data=data.encode(), timeout=10).read()
        (mail,) = wait_for_mail(instance / "outbox")
        assert b"To: parent@example.org" in mail.read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=10)
        worker.terminate()
        worker.wait(timeout=60)
    assert worker.returncode == 0  # SIGTERM: the worker stopped cleanly
