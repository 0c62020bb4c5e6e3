"""The municipality's side: a service's mailbox, what is left to handle, and the "traitée" mark."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from famille_core.entities import Actor, Direction, Family, Message, Thread
from famille_core.errors import Conflict, NotFound
from famille_core.portal import Portal
from famille_core.services.access import require_agent
from famille_core.uow import In, UnitOfWork
from famille_plugins.inbox.services.mailboxes import mailboxes_for, thread_for
from famille_plugins.inbox.services.paging import Paging
from famille_plugins.inbox.settings import settings_of


@frozen
class MailboxRow:
    """One conversation of a service's mailbox."""

    thread: Thread
    family: Family | None
    unread: int


@frozen
class MailboxPage:
    """One page of a service's mailbox."""

    service: str
    rows: Sequence[MailboxRow]
    paging: Paging
    handled: bool


def mailbox(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    service: str,
    page: int = 1,
    *,
    handled: bool = False,
) -> MailboxPage:
    """A service's conversations, most recent activity first (four queries per page)."""
    require_agent(actor)
    if service not in mailboxes_for(portal, actor):
        raise NotFound("Boîte de service introuvable.")
    size = settings_of(portal).page_size
    paging = Paging.of(page, uow.count(Thread, service=service, handled=handled), size)
    threads = uow.find(
        Thread,
        service=service,
        handled=handled,
        order_by=("-updated_at", "-id"),
        limit=size,
        offset=paging.offset(size),
    )
    families: dict[int | None, Family] = {}
    unread: dict[tuple[object, ...], int] = {}
    if threads:
        family_ids = sorted({t.family_id for t in threads})
        families = {f.id: f for f in uow.find(Family, id=In(family_ids))}
        unread = uow.count_by(
            Message,
            ("thread_id",),
            thread_id=In([t.id for t in threads]),
            direction=Direction.FROM_FAMILY,
            read_at=None,
        )
    rows = [
        MailboxRow(thread=t, family=families.get(t.family_id), unread=unread.get((t.id,), 0))
        for t in threads
    ]
    return MailboxPage(service=service, rows=rows, paging=paging, handled=handled)


def pending_by_service(portal: Portal, uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """Conversations still to handle, per mailbox of ``actor`` (one query)."""
    boxes = mailboxes_for(portal, actor)
    if not boxes:
        return {}
    counts = uow.count_by(Thread, ("service",), service=In(boxes), handled=False)
    return {box: counts.get((box,), 0) for box in boxes}


def set_handled(
    portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int, handled: bool = True
) -> Thread:
    """An agent marks a conversation handled ("traitée"), or reopens it.

    :raises Conflict: the family wrote a message nobody has opened yet (it arrived after the
        agent loaded the page): the conversation stays to handle.
    """
    require_agent(actor)
    thread = thread_for(portal, uow, actor, thread_id, for_update=True)
    if handled:
        waiting = uow.count(
            Message, thread_id=thread.id, direction=Direction.FROM_FAMILY, read_at=None
        )
        if waiting:
            raise Conflict(
                "La famille a écrit entre-temps : lisez son nouveau message avant de marquer "
                "la conversation comme traitée."
            )
    thread.handled = handled
    return thread
