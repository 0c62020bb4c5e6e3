"""Outgoing e-mail: SMTP in production, ``.eml`` files in an outbox folder in development."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")


def is_email_address(text: str) -> bool:
    """True when ``text`` is shaped like an e-mail address (``nom@domaine.fr``): the one check
    shared by every form and export that takes an address."""
    return _ADDRESS.fullmatch(text) is not None


def build_email(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(body)
    return message


def outbox_path(portal: Portal) -> Path:
    """The development outbox folder (absolute, or relative to the instance folder)."""
    folder = Path(portal.settings.mail.outbox_dir)
    return folder if folder.is_absolute() else portal.instance_path / folder


def send_email(portal: Portal, *, to: str, subject: str, body: str) -> None:
    """Send one e-mail according to ``[mail]`` in the configuration."""
    settings = portal.settings.mail
    message = build_email(settings.sender, to, subject, body)
    if settings.mode == "outbox":
        folder = outbox_path(portal)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = portal.clock.now().strftime("%Y%m%dT%H%M%S")
        path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        log.info("e-mail written to the outbox", extra={"path": path.name})
        return
    smtp_class = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    with smtp_class(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls and not settings.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
    log.info("e-mail sent through SMTP")
