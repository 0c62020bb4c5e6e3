"""The family's "Boîte de réception": its messages, newest first, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from famille_core.entities import Actor, Attachment, Direction, Message
from famille_core.portal import Portal
from famille_core.services.access import require_family
from famille_core.uow import In, UnitOfWork
from famille_plugins.inbox.services.paging import Paging
from famille_plugins.inbox.settings import settings_of


@frozen
class InboxRow:
    """One line of the "Boîte de réception"."""

    message: Message
    unread: bool
    attachment_count: int


@frozen
class InboxPage:
    """The family's inbox: one page of messages, newest first, and the unread count."""

    rows: Sequence[InboxRow]
    paging: Paging
    unread: int


def unread_count(uow: UnitOfWork, family_id: int) -> int:
    """Messages from the collectivity the household has not opened yet."""
    return uow.count(
        Message, family_id=family_id, direction=Direction.FROM_COLLECTIVITY, read_at=None
    )


def family_inbox(portal: Portal, uow: UnitOfWork, actor: Actor, page: int = 1) -> InboxPage:
    """The household's messages, newest first, one page (four queries whatever their number)."""
    family_id = require_family(actor)
    size = settings_of(portal).page_size
    paging = Paging.of(page, uow.count(Message, family_id=family_id), size)
    messages = uow.find(
        Message,
        family_id=family_id,
        order_by=("-created_at", "-id"),
        limit=size,
        offset=paging.offset(size),
    )
    counts = (
        uow.count_by(Attachment, ("message_id",), message_id=In([m.id for m in messages]))
        if messages
        else {}
    )
    rows = [
        InboxRow(
            message=m,
            unread=m.direction == Direction.FROM_COLLECTIVITY and m.read_at is None,
            attachment_count=counts.get((m.id,), 0),
        )
        for m in messages
    ]
    return InboxPage(rows=rows, paging=paging, unread=unread_count(uow, family_id))
