"""The mail queue (docs/mail.md, docs/security.md point 40): queued in the transaction of the
change, sent at least once by any number of senders, retried with a growing delay, kept as
failed for an operator; header values that cannot inject anything nor drop the e-mail."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from famille_core import Portal
from famille_core.entities import EmailState, OutgoingEmail
from famille_core.hooks.results import Notification
from famille_core.mail_queue import LEASE, mail_status, queue_email, retry_failed, send_due
from tests.mail_helpers import read_email, sent_emails, sent_mail_files, text_of


def queue(portal: Portal, count: int = 1, *, commit: bool = True, kind: str = "message") -> None:
    with portal.unit_of_work() as uow:
        for index in range(count):
            queue_email(
                portal,
                uow,
                to=f"famille{index}@example.org",
                subject=f"Objet {index}",
                body=f"Texte {index}",
                kind=kind,
            )
        if commit:
            uow.commit()


def rows(portal: Portal) -> list[OutgoingEmail]:
    with portal.unit_of_work() as uow:
        return uow.find(OutgoingEmail, order_by=("id",))


def test_a_change_that_rolls_back_sends_nothing(portal: Portal) -> None:
    queue(portal, commit=False)
    assert rows(portal) == []
    assert sent_emails(portal) == []


def test_a_notification_of_a_change_that_rolls_back_is_never_sent(portal: Portal) -> None:
    """The hook queues in the change's own unit of work (a security notice is sent if and only
    if its change commits): a change abandoned after the notice was asked for sends nothing."""
    with portal.unit_of_work() as uow:
        taken = portal.hook.deliver_notification(
            portal=portal,
            uow=uow,
            notification=Notification(to="a@example.org", subject="Objet", body="Texte"),
        )
        assert taken == [True]
        # no commit: the change fails after the notice was queued
    assert rows(portal) == []
    assert sent_emails(portal) == []


def test_a_committed_email_is_sent_once_and_its_body_erased(portal: Portal) -> None:
    queue(portal, kind="security_notice")
    (mail,) = sent_emails(portal)
    assert mail["To"] == "famille0@example.org" and mail["Subject"] == "Objet 0"
    assert text_of(mail).strip() == "Texte 0"
    (row,) = rows(portal)
    assert row.state is EmailState.SENT and row.kind == "security_notice"
    assert row.body == "" and row.attempts == 1 and row.sent_at == portal.clock.now()
    assert send_due(portal).handled == 0  # never sent twice


def test_the_hook_without_a_unit_of_work_queues_in_its_own_transaction(portal: Portal) -> None:
    taken = portal.hook.deliver_notification(
        portal=portal,
        uow=None,
        notification=Notification(to="a@example.org", subject="Objet", body="Texte", kind="test"),
    )
    assert taken == [True]
    (row,) = rows(portal)
    assert row.state is EmailState.PENDING and row.kind == "test"
    assert [m["To"] for m in sent_emails(portal)] == ["a@example.org"]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port where nothing listens (the mail server is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class TestMailServerDown:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any], closed_port: int) -> dict[str, Any]:
        mail = {"mode": "smtp", "host": "127.0.0.1", "port": closed_port, "max_attempts": 3}
        return {**settings_data, "mail": {**mail, "retry_seconds": 60}}

    def test_retried_with_growing_delays_then_kept_as_failed(self, portal: Portal) -> None:
        queue(portal)
        start = portal.clock.now()
        assert send_due(portal).retried == 1
        (row,) = rows(portal)
        assert row.state is EmailState.PENDING and row.attempts == 1
        assert row.next_attempt_at == start + timedelta(seconds=60)
        assert row.claimed_until is None
        assert row.last_error == "ConnectionRefusedError"  # the class, never an address
        assert send_due(portal).handled == 0  # not due yet
        portal.clock.advance(timedelta(seconds=60))  # type: ignore[attr-defined]
        assert send_due(portal).retried == 1
        (row,) = rows(portal)
        assert row.attempts == 2 and row.next_attempt_at == start + timedelta(seconds=180)
        portal.clock.advance(timedelta(seconds=120))  # type: ignore[attr-defined]
        assert send_due(portal).failed == 1
        (row,) = rows(portal)
        assert row.state is EmailState.FAILED and row.attempts == 3
        assert row.body == "Texte 0"  # kept for the operator's retry
        status = mail_status(portal)
        assert (status.pending, status.sent, status.failed) == (0, 0, 1)
        assert [f.id for f in status.failures] == [row.id]
        portal.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
        assert send_due(portal).handled == 0  # failed e-mails wait for an operator

    def test_an_operator_retries_failed_emails_once_the_server_is_back(
        self, portal: Portal
    ) -> None:
        queue(portal)
        for _ in range(3):
            send_due(portal)
            portal.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        assert mail_status(portal).failed == 1
        portal.settings = _outbox_mode(portal)
        assert retry_failed(portal) == 1
        assert [m["To"] for m in sent_emails(portal)] == ["famille0@example.org"]
        assert mail_status(portal).failed == 0


def _outbox_mode(portal: Portal) -> Any:
    from attrs import evolve

    return evolve(portal.settings, mail=evolve(portal.settings.mail, mode="outbox"))


def test_a_sender_killed_mid_send_leaves_the_email_for_after_its_lease(portal: Portal) -> None:
    from famille_core.mail_queue import _claim

    queue(portal)
    assert _claim(portal) is not None  # this sender then dies before sending
    assert sent_emails(portal) == []  # the lease still runs: nobody else sends it
    portal.clock.advance(LEASE)  # type: ignore[attr-defined]
    assert [m["To"] for m in sent_emails(portal)] == ["famille0@example.org"]
    (row,) = rows(portal)
    assert row.state is EmailState.SENT and row.attempts == 2


def test_old_sent_emails_are_forgotten(portal: Portal) -> None:
    queue(portal, 2)
    send_due(portal)
    portal.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    queue(portal, 1)
    send_due(portal)
    assert [row.subject for row in rows(portal)] == ["Objet 0"]  # the new one


@pytest.mark.postgres
def test_two_senders_reading_the_same_email_send_it_once(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forced interleaving: both senders read the same due e-mail before either claims it."""
    from famille_core import mail_queue

    queue(portal, 2)
    barrier = threading.Barrier(2, timeout=30)
    first_reads: set[int] = set()
    original = mail_queue._due

    def due_then_wait(uow: Any, now: Any) -> OutgoingEmail | None:
        email = original(uow, now)
        ident = threading.get_ident()
        if ident not in first_reads:
            first_reads.add(ident)
            barrier.wait()  # both have read e-mail 1
        return email

    monkeypatch.setattr(mail_queue, "_due", due_then_wait)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            send_due(portal, limit=1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.undo()
    assert errors == []
    sent = sorted(str(m["To"]) for m in sent_emails(portal))
    assert sent == ["famille0@example.org", "famille1@example.org"]
    assert {row.state for row in rows(portal)} == {EmailState.SENT}
    assert [row.attempts for row in rows(portal)] == [1, 1]


@pytest.mark.postgres
def test_many_senders_at_once_send_every_email_exactly_once(portal: Portal) -> None:
    queue(portal, 40)
    barrier = threading.Barrier(6, timeout=30)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            barrier.wait()
            send_due(portal)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    sent = sorted(str(m["To"]) for m in sent_emails(portal))
    assert sent == sorted(f"famille{i}@example.org" for i in range(40))
    assert all(row.state is EmailState.SENT and row.attempts == 1 for row in rows(portal))


LINE_SEPARATORS = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
"""Every character :meth:`str.splitlines` breaks a line on."""


@pytest.mark.parametrize("separator", LINE_SEPARATORS, ids=["+".join(f"U+{ord(c):04X}" for c in s) for s in LINE_SEPARATORS])
def test_a_line_separator_in_a_subject_neither_drops_the_email_nor_injects_a_header(
    portal: Portal, separator: str
) -> None:
    portal.hook.deliver_notification(
        portal=portal,
        uow=None,
        notification=Notification(
            to="parent@example.org",
            subject=f"Nouveau message : Rappel{separator}Bcc: pirate@evil.example",
            body="Texte",
        ),
    )
    (path,) = sent_mail_files(portal)
    mail = read_email(path)
    assert mail["Subject"] == "Nouveau message : Rappel Bcc: pirate@evil.example"
    assert mail["Bcc"] is None and mail["To"] == "parent@example.org"
    head = path.read_bytes().split(b"\n\n", 1)[0].decode()
    assert [line for line in head.splitlines() if line.lower().startswith("bcc")] == []


def test_a_recipient_with_a_line_break_is_refused_not_injected(portal: Portal) -> None:
    portal.hook.deliver_notification(
        portal=portal,
        uow=None,
        notification=Notification(
            to="parent@example.org\r\nBcc: pirate@evil.example", subject="Objet", body="Texte"
        ),
    )
    assert sent_emails(portal) == []
    (row,) = rows(portal)
    assert row.state is EmailState.FAILED and row.last_error == "InvalidRecipient"


class OlderChannel:
    """A channel written before ``deliver_notification`` took ``uow``."""

    from famille_core import hookimpl

    def __init__(self) -> None:
        self.taken: list[str] = []

    @hookimpl
    def deliver_notification(self, portal: Portal, notification: Notification) -> bool:
        self.taken.append(notification.to)
        return True


class TestChannelWithoutUnitOfWork:
    @pytest.fixture
    def extra_plugins(self) -> list[object]:
        return [OlderChannel()]

    def test_it_still_gets_notifications_next_to_the_queue(
        self, portal: Portal, extra_plugins: list[object]
    ) -> None:
        (channel,) = extra_plugins
        with portal.unit_of_work() as uow:
            portal.hook.deliver_notification(
                portal=portal,
                uow=uow,
                notification=Notification(to="a@example.org", subject="Objet", body="Texte"),
            )
            uow.commit()
        assert channel.taken == ["a@example.org"]  # type: ignore[attr-defined]
        assert [m["To"] for m in sent_emails(portal)] == ["a@example.org"]
