"""``famille worker`` as a town runs it: a real worker process, a real SMTP server (aiosmtpd)
that the tests stop, start or hold in the middle of an e-mail, the portal's e-mail outbox in the
instance's database and the jobs in the queue's store (the embedded SQLite file, or Redis).

The web process only queues the e-mail and wakes the worker through the task queue
(``[mail] delivery = "queue"``); the worker sends."""

from __future__ import annotations

import asyncio
import email
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask

from famille_core import Portal, load_settings
from famille_core.entities import EmailState, OutgoingEmail
from famille_core.jobs import QueueWaker, job_outcome
from famille_core.mail_queue import queue_email
from famille_core.persistence import build_sql_portal
from tests.host_flask.test_cli import FAMILLE, environment, run
from tests.mail_helpers import SmtpPort

REDIS = "redis://127.0.0.1:6379/4"
"""The tests' Redis database; the queue named ``jobs`` keeps its keys under ``jobs:``."""


class Holding:
    """An SMTP handler that holds the DATA phase of the first ``hold`` e-mails for ``seconds``
    (forever by default) before accepting them, and accepts the others at once."""

    def __init__(self, hold: int = 1, seconds: float = 3600.0) -> None:
        self.hold, self.seconds = hold, seconds
        self.held = threading.Event()
        self.received: list[EmailMessage] = []
        self.accepted: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = cast(EmailMessage, email.message_from_bytes(envelope.content, policy=default))
        self.received.append(message)
        if len(self.received) <= self.hold:
            self.held.set()
            await asyncio.sleep(self.seconds)
        self.accepted.append(message)
        return "250 2.0.0 OK"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    assert run(folder, "init").returncode == 0
    return folder


def configure(instance: Path, port: int, *, storage: str = "", timeout: int = 2, lease: int = 6) -> None:
    jobs = f'[jobs]\nstorage = "{storage}"\nname = "jobs"\n' if storage else ""
    (instance / "famille.toml").write_text(
        f'[mail]\nmode = "smtp"\ndelivery = "queue"\nhost = "127.0.0.1"\nport = {port}\n'
        f"timeout_seconds = {timeout}\nlease_seconds = {lease}\nretry_seconds = 1\n{jobs}",
        encoding="utf-8",
    )


def wait_until(condition: Callable[[], Any], seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still not true after {seconds} s")


class Worker:
    """One ``famille worker`` process; its output goes to a file (read on failure)."""

    def __init__(self, instance: Path, log: Path) -> None:
        self.log = log
        env = environment(instance)
        env.pop("FAMILLE_JOBS_STORAGE", None)
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [*FAMILLE, "worker", "--threads", "2"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as systemd stops a service; the exit code."""
        self.process.terminate()
        return self.process.wait(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)


class Town:
    """One instance folder, its worker processes and the web processes' portals."""

    def __init__(self, instance: Path, logs: Path) -> None:
        self.instance, self.logs = instance, logs
        self.workers: list[Worker] = []
        self.portals: list[Portal] = []

    def worker(self, name: str = "worker") -> Worker:
        """Start ``famille worker``."""
        worker = Worker(self.instance, self.logs / f"{name}.log")
        self.workers.append(worker)
        return worker

    def web_process(self) -> Portal:
        """The portal as a web process of this instance builds it: e-mail queued in the
        change's transaction, then the worker woken through the task queue."""
        settings = load_settings(self.instance / "famille.toml")
        portal = build_sql_portal(
            settings, f"sqlite:///{self.instance / 'famille.sqlite'}", instance_path=self.instance
        )
        portal.mail_sender = QueueWaker(portal)
        self.portals.append(portal)
        return portal

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.kill()
        for portal in self.portals:
            portal.storage.dispose()


@pytest.fixture
def town(instance: Path, tmp_path: Path) -> Iterator[Town]:
    town = Town(instance, tmp_path)
    yield town
    town.close()


def queue_one(portal: Portal) -> int:
    with portal.unit_of_work() as uow:
        queued = queue_email(
            portal, uow, to="parent@example.org", subject="Réservation", body="Texte"
        )
        uow.commit()
    assert queued.id is not None
    return queued.id


def row(portal: Portal, email_id: int) -> OutgoingEmail:
    with portal.unit_of_work() as uow:
        found = uow.get(OutgoingEmail, email_id)
    assert found is not None
    return found


@pytest.fixture
def redis_queue() -> Iterator[None]:
    """The queue ``jobs`` in the tests' Redis database, emptied before and after."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")

    def empty() -> None:
        keys = list(client.scan_iter("jobs:*"))
        if keys:
            client.delete(*keys)

    empty()
    yield
    empty()


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_mail_waits_while_the_server_is_down_and_the_worker_sends_it_when_it_is_back(
    store: str, request: pytest.FixtureRequest, town: Town, smtp: SmtpPort
) -> None:
    if store == "redis":
        request.getfixturevalue("redis_queue")
    configure(town.instance, smtp.port, storage=REDIS if store == "redis" else "")
    smtp.down()
    worker = town.worker()
    portal = town.web_process()
    email_id = queue_one(portal)
    # The server is down: the worker tries, fails, and the e-mail stays queued for a retry.
    wait_until(lambda: row(portal, email_id).attempts >= 2)
    waiting = row(portal, email_id)
    assert waiting.state is EmailState.PENDING
    assert waiting.last_error == "ConnectionRefusedError"
    mailbox = smtp.working()
    wait_until(lambda: mailbox.messages, seconds=30)
    (message,) = mailbox.messages
    assert (message["To"], message["Subject"]) == ("parent@example.org", "Réservation")
    wait_until(lambda: row(portal, email_id).state is EmailState.SENT, seconds=30)
    assert worker.stop() == 0, worker.output()
    assert "Tâches de fond arrêtées." in worker.output()
    assert "parent@example.org" not in worker.output()  # logs name e-mails by id only
    # The jobs waited in the configured store, shared by every process that uses it.
    assert (town.instance / "jobs.db").exists() is (store == "embedded")


def test_a_worker_killed_mid_send_loses_nothing_and_the_next_one_sends_it(town: Town, smtp: SmtpPort) -> None:
    configure(town.instance, smtp.port)
    server = Holding(hold=1)
    smtp._serve(server)  # holds the first e-mail's DATA phase, never answering
    first = town.worker("first")
    portal = town.web_process()
    email_id = queue_one(portal)
    assert server.held.wait(60), first.output()
    first.kill()  # SIGKILL while the server holds the DATA phase
    claimed = row(portal, email_id)
    assert claimed.state is EmailState.PENDING and claimed.attempts == 1  # not lost, not failed
    second = town.worker("second")
    wait_until(lambda: server.accepted, seconds=60)  # after the dead sender's lease (6 s)
    assert [m["To"] for m in server.accepted] == ["parent@example.org"]
    assert len(server.received) == 2  # at least once: the held attempt, then the real one
    wait_until(lambda: row(portal, email_id).state is EmailState.SENT, seconds=30)
    assert second.stop() == 0, second.output()


def test_sigterm_lets_the_worker_finish_the_email_in_hand(town: Town, smtp: SmtpPort) -> None:
    configure(town.instance, smtp.port, timeout=20, lease=60)
    server = Holding(hold=1, seconds=3)  # a slow server: three seconds to accept
    smtp._serve(server)
    worker = town.worker()
    portal = town.web_process()
    email_id = queue_one(portal)
    assert server.held.wait(60), worker.output()
    assert worker.stop() == 0, worker.output()  # SIGTERM while the server is still silent
    assert len(server.accepted) == 1 and len(server.received) == 1
    done = row(portal, email_id)
    assert done.state is EmailState.SENT and done.attempts == 1  # recorded before the exit
    assert "Tâches de fond arrêtées." in worker.output()


def test_a_background_import_is_run_by_the_worker_and_its_report_kept(
    town: Town, tmp_path: Path
) -> None:
    instance = town.instance
    (instance / "famille.toml").write_text('[mail]\ndelivery = "queue"\n', encoding="utf-8")
    families = tmp_path / "familles.csv"
    families.write_text(
        "external_id,family_number,name,responsable.last_name,responsable.first_name\n"
        "ERP-1,1001,LEROY,LEROY,Anne\n"
        "ERP-2,,GIRARD,GIRARD,Luc\n",
        encoding="utf-8",
    )
    queued = run(instance, "import", "families", str(families), "--background")
    assert queued.returncode == 0, queued.stderr
    job_id = queued.stdout.split("famille jobs result ")[1].strip()
    waiting = run(instance, "jobs", "result", job_id)
    assert waiting.returncode == 3 and "En attente" in waiting.stdout  # no worker yet
    worker = town.worker()
    portal = town.web_process()
    wait_until(lambda: job_outcome(portal, job_id).state == "done")
    report = run(instance, "jobs", "result", job_id)
    assert report.returncode == 1  # a rejected line, as `famille import` says
    assert "ligne 3 — family_number : Ce champ est obligatoire." in report.stdout
    assert "Import terminé : 1 créé(s), 0 mis à jour, 0 inchangé(s), 1 rejeté(s)." in report.stdout
    again = run(instance, "jobs", "result", job_id)
    assert again.stdout == report.stdout  # kept
    assert worker.stop() == 0, worker.output()


def test_the_health_page_fails_when_the_jobs_store_does_not_answer(
    portal: Portal, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    assert client.get("/sante").json["checks"]["jobs"] == "ok"  # type: ignore[index]
    with socket.socket() as probe:  # a Redis server that is not running
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FAMILLE_JOBS_STORAGE", f"redis://127.0.0.1:{port}/4")
    portal.job_queue = None  # a process started with that setting
    answer = client.get("/sante")
    assert answer.status_code == 503
    assert answer.json is not None and answer.json["failing"] == ["jobs"]
