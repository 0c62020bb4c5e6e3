"""The mail queue: every e-mail the portal sends is first a row of the database, written in the
transaction of the change that causes it, then sent by a sender (docs/mail.md,
docs/security.md point 40).

    queue_email(portal, uow, to=..., subject=..., body=..., kind=...)  # before uow.commit()
    send_due(portal)                                                     # one pass of a sender

A change that rolls back sends nothing; a committed one is never lost: a mail server that is down,
refusing or slow only delays the e-mail, which is retried with a growing delay up to
``[mail] max_attempts``, then kept as failed for an operator (``famille mail-status``).

Senders claim one e-mail at a time with a conditional update (the row's version): several
senders, in several processes, never send the same e-mail twice while its lease runs, and an
e-mail whose sender died mid-send is due again once the lease has passed (at least once).
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import threading
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from famille_core.entities import EmailState, OutgoingEmail
from famille_core.errors import Conflict
from famille_core.mail import InvalidRecipient, transmit
from famille_core.uow import Lte, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
"""How long a sender owns a claimed e-mail by default (``[mail] lease_seconds``, well above the
SMTP timeout)."""
MAX_DELAY = timedelta(hours=6)
"""The longest wait between two attempts."""
SENT_KEPT = timedelta(days=30)
"""How long sent e-mails stay in the table (recipient, subject and dates; the body is erased)."""
POLL_SECONDS = 30.0
"""How often a running sender looks for retries that became due."""
BATCH = 100
"""E-mails per pass of :func:`send_due` (a sender goes on at once when a pass was full)."""


@frozen
class SendReport:
    """What one pass of :func:`send_due` did."""

    sent: int = 0
    retried: int = 0
    """Failed this time, due again later."""
    failed: int = 0
    """Failed for good (kept for an operator)."""

    @property
    def handled(self) -> int:
        """E-mails this pass attempted."""
        return self.sent + self.retried + self.failed


@frozen
class MailStatus:
    """The queue at a glance, for an operator (``famille mail-status``)."""

    pending: int
    due: int
    """Pending e-mails whose attempt time has come (and whose lease, if any, has passed)."""
    sent: int
    failed: int
    oldest_pending: datetime | None
    failures: tuple[OutgoingEmail, ...]
    """The most recent failed e-mails (body and recipient are not shown by the command)."""


@frozen
class _Claimed:
    id: int
    recipient: str
    subject: str
    body: str


def queue_email(
    portal: Portal, uow: UnitOfWork, *, to: str, subject: str, body: str, kind: str = "message"
) -> OutgoingEmail:
    """Queue one e-mail in ``uow``: it exists (and will be sent) only if ``uow`` commits.

    Senders are woken after the commit (``[mail] delivery = "background"``).
    """
    now = portal.clock.now()
    email = OutgoingEmail(
        recipient=to, subject=subject, body=body, kind=kind, created_at=now, next_attempt_at=now
    )
    uow.add(email)
    uow.after_commit(lambda: wake_sender(portal))
    return email


def retry_delay(portal: Portal, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``retry_seconds``, doubling, capped."""
    seconds = portal.settings.mail.retry_seconds * 2 ** min(attempts - 1, 30)
    return min(timedelta(seconds=seconds), MAX_DELAY)


def send_due(portal: Portal, *, limit: int = BATCH) -> SendReport:
    """Send the e-mails that are due, at most ``limit``: the sender's one entry point.

    Each e-mail is claimed in its own short transaction, handed to the transport of
    ``[mail] mode`` outside any transaction, then marked sent, or due again after
    :func:`retry_delay`, or failed after ``[mail] max_attempts``. Safe to run in several threads
    and processes at once.
    """
    _forget_old_sent(portal)
    sent = retried = failed = 0
    while sent + retried + failed < limit:
        claimed = _claim(portal)
        if claimed is None:
            break
        try:
            transmit(portal, to=claimed.recipient, subject=claimed.subject, body=claimed.body)
        except Exception as exc:  # any transport failure: the e-mail stays queued
            if _record_failure(portal, claimed.id, exc):
                retried += 1
            else:
                failed += 1
        else:
            _record_sent(portal, claimed.id)
            sent += 1
    return SendReport(sent=sent, retried=retried, failed=failed)


def send_outbox(portal: Portal, *, passes: int = 10) -> SendReport:
    """The task queue's ``mail.send`` job (docs/jobs.md): passes of :func:`send_due` while they
    are full, at most ``passes`` (the job stays short; the next one goes on)."""
    sent = retried = failed = 0
    for _ in range(passes):
        report = send_due(portal)
        sent, retried, failed = sent + report.sent, retried + report.retried, failed + report.failed
        if report.handled < BATCH:
            break
    return SendReport(sent=sent, retried=retried, failed=failed)


def next_attempt_in(portal: Portal) -> timedelta | None:
    """How long until the next pending e-mail is due (zero or less: now), ``None`` when none
    waits: a sender that just ran knows when to look again."""
    with portal.unit_of_work() as uow:
        first = uow.first(OutgoingEmail, state=EmailState.PENDING, order_by=("next_attempt_at",))
        return None if first is None else first.next_attempt_at - portal.clock.now()


def _due(uow: UnitOfWork, now: datetime) -> OutgoingEmail | None:
    """The next e-mail to attempt."""
    return uow.first(
        OutgoingEmail,
        state=EmailState.PENDING,
        next_attempt_at=Lte(now),
        order_by=("next_attempt_at", "id"),
    )


def _claim(portal: Portal) -> _Claimed | None:
    """Claim the next due e-mail for this sender (its lease starts), or ``None``."""
    while True:
        with portal.unit_of_work() as uow:
            now = portal.clock.now()
            email = _due(uow, now)
            if email is None or email.id is None:
                return None
            email.attempts += 1
            email.claimed_until = email.next_attempt_at = now + timedelta(
                seconds=portal.settings.mail.lease_seconds
            )
            claimed = _Claimed(email.id, email.recipient, email.subject, email.body)
            try:
                uow.commit()  # UPDATE … WHERE id = ? AND version = ?
            except Conflict:
                continue  # another sender claimed it first: take the next one
            return claimed


def _update(portal: Portal, email_id: int, change: Callable[[OutgoingEmail], None]) -> None:
    """Apply ``change`` to a still pending e-mail, again if another sender wrote it meanwhile."""
    while True:
        with portal.unit_of_work() as uow:
            email = uow.get(OutgoingEmail, email_id)
            if email is None or email.state is not EmailState.PENDING:
                return
            change(email)
            try:
                uow.commit()
            except Conflict:
                continue
            return


def _record_sent(portal: Portal, email_id: int) -> None:
    def sent(email: OutgoingEmail) -> None:
        email.state = EmailState.SENT
        email.sent_at = portal.clock.now()
        email.claimed_until = None
        email.last_error = ""
        email.body = ""  # it may hold a reset link or a message's text

    _update(portal, email_id, sent)
    log.info("e-mail sent", extra={"email_id": email_id})


def _error_label(exc: Exception) -> str:
    """The error's class and SMTP code: never its text, which may quote an address."""
    label = type(exc).__name__
    if isinstance(exc, smtplib.SMTPResponseException):
        label += f" {exc.smtp_code}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        label += " " + ",".join(sorted({str(code) for code, _ in exc.recipients.values()}))
    return label[:200]


def _record_failure(portal: Portal, email_id: int, exc: Exception) -> bool:
    """Record a failed attempt; ``True`` when the e-mail will be tried again."""
    label = _error_label(exc)
    again = True

    def failed(email: OutgoingEmail) -> None:
        nonlocal again
        now = portal.clock.now()
        email.claimed_until = None
        email.last_error = label
        if isinstance(exc, InvalidRecipient) or email.attempts >= portal.settings.mail.max_attempts:
            email.state = EmailState.FAILED
            email.next_attempt_at = now
            again = False
        else:
            email.next_attempt_at = now + retry_delay(portal, email.attempts)

    _update(portal, email_id, failed)
    log.warning(
        "e-mail not sent" + ("; it will be retried" if again else "; kept as failed"),
        extra={"email_id": email_id, "error": label},
    )
    return again


def _forget_old_sent(portal: Portal) -> None:
    """Delete sent e-mails older than :data:`SENT_KEPT`."""
    with portal.unit_of_work() as uow:
        old = uow.find(
            OutgoingEmail,
            state=EmailState.SENT,
            sent_at=Lte(portal.clock.now() - SENT_KEPT),
            limit=500,
        )
        if not old:
            return
        for email in old:
            uow.delete(email)
        with contextlib.suppress(Conflict):  # another sender deleted them first
            uow.commit()


def mail_status(portal: Portal, *, failures: int = 20) -> MailStatus:
    """Counts by state, what is due now, and the ``failures`` most recent failed e-mails."""
    with portal.unit_of_work() as uow:
        now = portal.clock.now()
        counts = uow.count_by(OutgoingEmail, ("state",))
        oldest = uow.first(OutgoingEmail, state=EmailState.PENDING, order_by=("created_at",))
        return MailStatus(
            pending=counts.get((EmailState.PENDING,), 0),
            due=uow.count(OutgoingEmail, state=EmailState.PENDING, next_attempt_at=Lte(now)),
            sent=counts.get((EmailState.SENT,), 0),
            failed=counts.get((EmailState.FAILED,), 0),
            oldest_pending=oldest.created_at if oldest else None,
            failures=tuple(
                uow.find(
                    OutgoingEmail, state=EmailState.FAILED, order_by=("-id",), limit=failures
                )
            ),
        )


def retry_failed(portal: Portal) -> int:
    """Queue every failed e-mail again, with a fresh count of attempts; returns how many."""
    with portal.unit_of_work() as uow:
        now = portal.clock.now()
        failed = uow.find(OutgoingEmail, state=EmailState.FAILED)
        for email in failed:
            email.state = EmailState.PENDING
            email.attempts = 0
            email.next_attempt_at = now
        uow.commit()
    if failed:
        wake_sender(portal)
    return len(failed)


def run_sender(
    portal: Portal,
    wake: threading.Event,
    stop: threading.Event,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Send due e-mails until ``stop`` is set: a pass, then wait for ``wake`` or
    ``poll_seconds`` (``famille send-mail --loop`` and the background sender)."""
    while not stop.is_set():
        wake.clear()  # a wake from now on is seen by the wait below
        try:
            report = send_due(portal)
        except Exception:  # the database is unreachable: try again at the next poll
            log.exception("mail sender pass failed")
            report = SendReport()
        if report.handled < BATCH:
            wake.wait(poll_seconds)


_started: weakref.WeakSet[BackgroundSender] = weakref.WeakSet()
"""Senders whose thread was started in this process (:func:`stop_all_senders`)."""


class BackgroundSender:
    """Sends the queue from a daemon thread of this process (``[mail] delivery =
    "background"``): woken after each commit that queued e-mail, and every
    :data:`POLL_SECONDS` for retries. Started lazily, once per process (a forked web worker
    starts its own)."""

    def __init__(self, portal: Portal, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.portal = portal
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def ensure_started(self) -> None:
        """Start the thread in this process unless it runs already."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._wake, self._stop = threading.Event(), threading.Event()
            self._thread = threading.Thread(
                target=run_sender,
                args=(self.portal, self._wake, self._stop, self.poll_seconds),
                name="famille-mail-sender",
                daemon=True,
            )
            self._thread.start()
            _started.add(self)

    def wake(self) -> None:
        """Send now what is due (after a commit that queued e-mail)."""
        self.ensure_started()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread after its current e-mail (tests; a process exiting needs not)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


def stop_all_senders() -> None:
    """Stop every background sender of this process. A test suite calls it after each test: a
    portal built by one test must not go on polling a database another test is measuring."""
    for sender in list(_started):
        sender.stop()
        _started.discard(sender)


def wake_sender(portal: Portal) -> None:
    """Wake this process's background sender, if it runs one."""
    sender = portal.mail_sender
    if sender is not None:
        sender.wake()
