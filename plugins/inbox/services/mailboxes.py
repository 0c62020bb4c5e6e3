"""The services' mailboxes: which exist, who reads which, where a new conversation goes, and who
takes part in a conversation (anyone else gets :class:`~famille_core.errors.NotFound`)."""

from __future__ import annotations

from famille_core.entities import Actor, Direction, Message, Role, Thread
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.services.access import require_family
from famille_core.uow import UnitOfWork
from famille_plugins.inbox.settings import settings_of

FALLBACK_SERVICE = "MAIRIE"


def services_of(portal: Portal) -> tuple[str, ...]:
    """The municipal services, each with its own mailbox."""
    return tuple(portal.settings.collectivity.services) or (FALLBACK_SERVICE,)


def mailboxes_for(portal: Portal, actor: Actor) -> tuple[str, ...]:
    """The mailboxes ``actor`` reads: every one for an administrator, their service's for an
    agent, none for anyone else."""
    if actor.role == Role.ADMIN:
        return services_of(portal)
    if actor.role == Role.AGENT and actor.service in services_of(portal):
        return (actor.service,)
    return ()


def route(portal: Portal, thread: Thread, message: Message) -> str:
    """The service a new conversation goes to (``route_message`` hook; unknown answers fall back
    to the first service)."""
    chosen = portal.hook.route_message(portal=portal, thread=thread, message=message)
    services = services_of(portal)
    return chosen if chosen in services else services[0]


def route_by_keyword(portal: Portal, subject: str) -> str | None:
    """The service whose ``[plugins.inbox] routing`` keyword appears in ``subject``."""
    lowered = subject.casefold()
    for keyword, service in settings_of(portal).routing.items():
        if keyword.casefold() in lowered:
            return service
    return None


def thread_for(
    portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int, *, for_update: bool = False
) -> Thread:
    """The conversation, when ``actor`` takes part in it; otherwise :class:`NotFound`.

    ``for_update`` locks it until the end of the transaction: a family's reply and an agent's
    "traitée" mark are serialised, so a new message is never hidden by a conversation marked
    handled at the same moment.
    """
    thread = uow.get(Thread, thread_id, for_update=for_update)
    if thread is None:
        raise NotFound("Conversation introuvable.")
    if actor.is_agent:
        if thread.service not in mailboxes_for(portal, actor):
            raise NotFound("Conversation introuvable.")
    elif thread.family_id != require_family(actor):
        raise NotFound("Conversation introuvable.")
    return thread


def thread_of_message(portal: Portal, uow: UnitOfWork, actor: Actor, message_id: int) -> int:
    """The conversation holding ``message_id``, when ``actor`` may see it."""
    message = uow.get(Message, message_id)
    if message is None:
        raise NotFound("Message introuvable.")
    return thread_for(portal, uow, actor, message.thread_id).id or 0


def incoming_direction(actor: Actor) -> Direction:
    """The messages ``actor`` receives (and reads): the family's for agents, the town's for families."""
    return Direction.FROM_FAMILY if actor.is_agent else Direction.FROM_COLLECTIVITY
