"""E-mail itself: the address check, the message, and its transport (SMTP in production,
``.eml`` files in an outbox folder in development).

The portal never sends from here directly: every e-mail is queued in the database first
(:mod:`famille_core.mail_queue`), and the queue's sender calls :func:`transmit`.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import unicodedata
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")


class InvalidRecipient(ValueError):
    """The recipient is not an e-mail address: no attempt can succeed."""


def is_email_address(text: str) -> bool:
    """True when ``text`` is shaped like an e-mail address (``nom@domaine.fr``): the one check
    shared by every form and export that takes an address."""
    return _ADDRESS.fullmatch(text) is not None


def header_text(value: str) -> str:
    """``value`` on one line, fit for a header: every line separator (CR, LF, U+0085, U+2028,
    U+2029, the other characters :meth:`str.splitlines` breaks on) and every other control
    character becomes a space, and runs of spaces shrink to one.

    The one place header values are cleaned (docs/security.md point 40): a subject typed with a
    line separator can neither inject a header nor make the e-mail fail to build.
    """
    kept = (" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in value)
    return " ".join("".join(kept).split())


def build_email(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail; header values go through :func:`header_text`."""
    sender, to = header_text(sender), header_text(to)
    if not is_email_address(to):
        raise InvalidRecipient("the recipient is not an e-mail address")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = header_text(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(body)
    return message


def outbox_path(portal: Portal) -> Path:
    """The development outbox folder (absolute, or relative to the instance folder)."""
    folder = Path(portal.settings.mail.outbox_dir)
    return folder if folder.is_absolute() else portal.instance_path / folder


def transmit(portal: Portal, *, to: str, subject: str, body: str) -> None:
    """Hand one e-mail to the transport of ``[mail] mode``: raises when it is not accepted.

    Only the mail queue's sender calls it (:func:`famille_core.mail_queue.send_due`).
    """
    settings = portal.settings.mail
    message = build_email(settings.sender, to, subject, body)
    if settings.mode == "outbox":
        folder = outbox_path(portal)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = portal.clock.now().strftime("%Y%m%dT%H%M%S")
        path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(bytes(message))
        partial.replace(path)  # readers never see half a file
        log.info("e-mail written to the outbox", extra={"path": path.name})
        return
    smtp_class = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    with smtp_class(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.starttls and not settings.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
    log.info("e-mail sent through SMTP")
