"""What the portal e-mailed, as a person would see it: the tests' one way to read e-mail.

The portal queues every e-mail in the database (famille_core.mail_queue); these helpers run the
sender, as the background sender or ``famille send-mail`` would, then read the development outbox
folder. :class:`SmtpPort` is a real local SMTP server (aiosmtpd) that a test stops, starts, or
replaces by one that refuses or never answers (the ``smtp`` fixture of tests/host_flask).
"""

from __future__ import annotations

import email
import socket
import sys
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller

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


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append(cast(EmailMessage, message))
        return "250 2.0.0 OK"


class Refusing:
    """An aiosmtpd handler that refuses every recipient."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, *_args: Any) -> str:
        return "554 5.7.1 Service refusé"


class SmtpPort:
    """One local port whose mail server a test switches: down, refusing, hanging or working."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller: Controller | None = None
        self._silent: socket.socket | None = None

    def down(self) -> None:
        """Nothing listens: connections are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._silent is not None:
            self._silent.close()
            self._silent = None

    def _serve(self, handler: object) -> None:
        self.down()
        self._controller = Controller(handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def refusing(self) -> None:
        """A server that answers, then refuses every recipient."""
        self._serve(Refusing())

    def hanging(self) -> None:
        """A server that accepts connections and never says a word."""
        self.down()
        self._silent = socket.socket()
        self._silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._silent.bind(("127.0.0.1", self.port))
        self._silent.listen(16)

    def working(self) -> Mailbox:
        """A server that accepts every e-mail; returns what it receives."""
        mailbox = Mailbox()
        self._serve(mailbox)
        return mailbox
