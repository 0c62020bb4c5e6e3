"""A conversation as one side sees it (showing it changes nothing), and its attachments."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from famille_core import uploads as files
from famille_core.entities import Actor, Attachment, Family, Message, Thread
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.uow import In, UnitOfWork
from famille_plugins.inbox.services.mailboxes import incoming_direction, thread_for


@frozen
class Conversation:
    """A conversation as shown to one side, with each message's attachments."""

    thread: Thread
    family: Family
    messages: Sequence[Message]
    attachments: dict[int, list[Attachment]]
    unread: frozenset[int]
    """Ids of the other side's messages not read yet (shown as "nouveau")."""
    has_incoming: bool = False
    """The other side wrote at least one message (it can be marked unread again)."""


def conversation(portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int) -> Conversation:
    """A conversation as ``actor`` sees it. Showing it changes nothing: reading is marked by
    :func:`famille_plugins.inbox.services.reading.mark` (docs/inbox.md, "Reading")."""
    thread = thread_for(portal, uow, actor, thread_id)
    family = uow.get(Family, thread.family_id)
    if family is None:
        raise NotFound("Conversation introuvable.")
    messages = uow.find(Message, thread_id=thread.id, order_by=("created_at", "id"))
    found = uow.find(Attachment, message_id=In([m.id for m in messages]), order_by=("id",))
    by_message: dict[int, list[Attachment]] = {}
    for item in found:
        by_message.setdefault(item.message_id, []).append(item)
    incoming = [m for m in messages if m.direction == incoming_direction(actor)]
    return Conversation(
        thread=thread,
        family=family,
        messages=messages,
        attachments=by_message,
        unread=frozenset(m.id for m in incoming if m.read_at is None and m.id is not None),
        has_incoming=bool(incoming),
    )


def attachment_for(
    portal: Portal, uow: UnitOfWork, actor: Actor, attachment_id: int
) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for the conversation's participants only."""
    item = uow.get(Attachment, attachment_id)
    message = uow.get(Message, item.message_id) if item is not None else None
    if item is None or message is None:
        raise NotFound("Pièce jointe introuvable.")
    thread_for(portal, uow, actor, message.thread_id)
    data = files.read(portal, item.storage_key)
    if data is None:
        raise NotFound("Pièce jointe introuvable.")
    return item, data
