"""What the portal e-mailed, as a person would see it: the tests' one way to read e-mail.

The portal queues every e-mail in the database (famille_core.mail_queue); these helpers run the
sender, as the background sender or ``famille send-mail`` would, then read the development outbox
folder.
"""

from __future__ import annotations

import email
import sys
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import cast

from famille_core import Portal
from famille_core.mail import outbox_path
from famille_core.mail_queue import send_due


def send_queued(portal: Portal) -> None:
    """Send every e-mail that is due now."""
    send_due(portal, limit=sys.maxsize)


def sent_mail_files(portal: Portal) -> list[Path]:
    """Send what is due, then the ``.eml`` files of the outbox folder, oldest first."""
    send_queued(portal)
    folder = outbox_path(portal)
    files = list(folder.glob("*.eml")) if folder.is_dir() else []
    return sorted(files, key=lambda path: (path.stat().st_mtime_ns, path.name))


def read_email(path: Path) -> EmailMessage:
    """One ``.eml`` file, parsed."""
    return cast(EmailMessage, email.message_from_bytes(path.read_bytes(), policy=default))


def sent_emails(portal: Portal) -> list[EmailMessage]:
    """Send what is due, then every e-mail of the outbox folder, oldest first."""
    return [read_email(path) for path in sent_mail_files(portal)]


def text_of(message: EmailMessage) -> str:
    """The plain-text body of ``message``."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())
