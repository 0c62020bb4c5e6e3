"""What the inbox gives out of its records: its sections of "Mes données" and its events in the
domain feed."""

from __future__ import annotations

from typing import Any

from famille_core.entities import Attachment, Message, Thread
from famille_core.hooks.results import EventPolicy, FeedEvent
from famille_core.services.export import records
from famille_core.uow import UnitOfWork


def family_sections(uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """The household's conversations, their messages and the attachments' descriptions."""
    return {
        "threads": records(uow.find(Thread, family_id=family_id, order_by=("created_at", "id"))),
        "messages": records(uow.find(Message, family_id=family_id, order_by=("created_at", "id"))),
        "attachments": records(uow.find(Attachment, family_id=family_id)),
    }


def _sent(message: Message) -> FeedEvent:
    return FeedEvent(
        kind="message.sent",
        payload={
            "thread_id": message.thread_id,
            "direction": str(getattr(message.direction, "value", message.direction)),
            "is_system": message.is_system,
        },
    )


EVENT_POLICIES = (EventPolicy(entity_type=Message, entity="message", created=_sent),)
