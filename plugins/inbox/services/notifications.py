"""E-mails about new messages: to the household for the collectivity's messages, to the service
for the family's.

The e-mails go through the ``deliver_notification`` hook (the core queues them in the database,
then sends them by SMTP, or writes ``.eml`` files into the development outbox). With ``[plugins.inbox] private_notifications``
they say only that a message arrived and where to read it: neither the title nor the text.
"""

from __future__ import annotations

from famille_core.entities import Direction, Message, Role, Thread, User
from famille_core.hooks.results import Notification
from famille_core.portal import Portal
from famille_core.uow import In, UnitOfWork
from famille_plugins.inbox.settings import settings_of

FAMILY_PATH = "/messages/"
AGENT_PATH = "/gestion/messages/conversation/"


def message_link(portal: Portal, message: Message) -> str:
    """Where the recipient reads ``message`` (they log in first if needed)."""
    base = portal.settings.portal.base_url.rstrip("/")
    if message.direction == Direction.FROM_COLLECTIVITY:
        return f"{base}{FAMILY_PATH}{message.id}"
    return f"{base}{AGENT_PATH}{message.thread_id}"


def recipients(portal: Portal, uow: UnitOfWork, message: Message) -> list[str]:
    """The addresses told about ``message``: the household's logins, or the service's mailbox
    address (else its agents)."""
    if message.direction == Direction.FROM_COLLECTIVITY:
        users = uow.find(User, family_id=message.family_id, role=Role.PARENT, is_active=True)
        return sorted({user.email for user in users if user.email})
    thread = uow.get(Thread, message.thread_id)
    if thread is None:
        return []
    configured = settings_of(portal).service_emails.get(thread.service)
    if configured:
        return [configured]
    agents = uow.find(
        User, service=thread.service, role=In([Role.AGENT, Role.ADMIN]), is_active=True
    )
    return sorted({user.email for user in agents if user.email})


def compose(portal: Portal, message: Message) -> tuple[str, str]:
    """``(subject, body)`` of the e-mail about ``message``."""
    town = portal.settings.collectivity.name
    link = message_link(portal, message)
    if settings_of(portal).private_notifications:
        return (
            "Vous avez un nouveau message",
            "Bonjour,\n\n"
            f"Vous avez un nouveau message sur le Portail Famille ({town}).\n"
            f"Pour le lire, connectez-vous : {link}\n",
        )
    return (
        f"Nouveau message : {message.subject}",
        "Bonjour,\n\n"
        f"Vous avez un nouveau message sur le Portail Famille ({town}).\n\n"
        f"De : {message.author_label}\n"
        f"Objet : {message.subject}\n\n"
        f"{message.body}\n\n"
        f"Pour répondre, connectez-vous : {link}\n",
    )


def notify_other_side(portal: Portal, uow: UnitOfWork, message: Message) -> int:
    """E-mail the other side of the conversation, queued in ``uow``, the transaction that posts
    ``message`` (the core's mail queue sends them once it commits, and retries while the mail
    server is down); returns how many e-mails were queued."""
    subject, body = compose(portal, message)
    addresses = recipients(portal, uow, message)
    for address in addresses:
        portal.hook.deliver_notification(
            portal=portal,
            uow=uow,
            notification=Notification(to=address, subject=subject, body=body, kind="message"),
        )
    return len(addresses)
