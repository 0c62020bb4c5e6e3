"""Reading is explicit: showing a conversation changes nothing (docs/security.md point 16, a GET
never changes state). A person's browser marks it read once the page is really shown (the served
``read.js`` posts the page's "Marquer comme lu" form; a prefetched or prerendered page that nobody
looks at stays unread); without JavaScript the person presses the button. The form names the
messages the page showed, and only those become read: a message that arrived after the page was
drawn stays unread (an agent cannot then mark the conversation handled without having seen it).
"Marquer comme non lu" makes the latest message of the other side unread again.
"""

from __future__ import annotations

from collections.abc import Collection

from famille_core.entities import Actor, Message, Thread
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_plugins.inbox.services.mailboxes import incoming_direction, thread_for


def mark(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    thread_id: int,
    *,
    read: bool,
    shown: Collection[int] = (),
) -> Thread:
    """Mark the other side's messages ``shown`` to ``actor`` read, or the latest one unread.

    :raises NotFound: a conversation ``actor`` does not take part in.
    """
    thread = thread_for(portal, uow, actor, thread_id)
    incoming = uow.find(Message, thread_id=thread.id, direction=incoming_direction(actor), order_by=("created_at", "id"))
    if read:
        now = portal.clock.now()
        for message in incoming:
            if message.read_at is None and message.id in shown:
                message.read_at = now
    elif incoming:
        incoming[-1].read_at = None
    uow.flush()
    return thread
