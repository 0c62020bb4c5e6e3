"""Outgoing e-mail waiting in the database (the mail queue, a transactional outbox)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from attrs import define


class EmailState(StrEnum):
    """Where an outgoing e-mail stands."""

    PENDING = "pending"
    """Waiting for its first attempt, for a retry, or being sent (see ``claimed_until``)."""
    SENT = "sent"
    """Handed over to the mail server (or written to the development outbox folder)."""
    FAILED = "failed"
    """Every attempt failed: kept for an operator (``famille mail-status``, ``famille send-mail
    --retry-failed``)."""


@define(slots=False, eq=False, kw_only=True)
class OutgoingEmail:
    """One e-mail the portal has to send, written in the transaction of the change that causes it.

    A sender claims it (``claimed_until`` is its lease, and ``next_attempt_at`` moves to the end of
    the lease, so a sender that dies mid-send leaves it due again afterwards), sends it, and marks
    it sent, or due again later with a growing delay, or failed after the last attempt.
    ``last_error`` names the error's class (and an SMTP code), never an address. The body is erased
    once the e-mail is sent: it may hold a reset link or a message's text.
    """

    id: int | None = None
    recipient: str
    subject: str
    body: str
    kind: str = "message"
    """What the e-mail is about (``password_reset``, ``security_notice``, ``message``…)."""
    state: EmailState = EmailState.PENDING
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    version: int = 1
