"""The inbox (boîte de réception): conversations between a household and a service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from attrs import define


class Direction(StrEnum):
    """Who wrote a message."""

    FROM_FAMILY = "from_family"
    FROM_COLLECTIVITY = "from_collectivity"


@define(slots=False, eq=False, kw_only=True)
class Thread:
    """A conversation between one household and one municipal service."""

    id: int | None = None
    family_id: int
    service: str
    subject: str
    created_at: datetime
    updated_at: datetime
    handled: bool = False


@define(slots=False, eq=False, kw_only=True)
class Message:
    """One message of a conversation. ``author_label`` is what "Qui" shows (e.g. "Magnus ENFANCE")."""

    id: int | None = None
    thread_id: int
    family_id: int
    direction: Direction
    author_user_id: int | None = None
    author_label: str
    subject: str
    body: str
    size: int = 0
    """Size in bytes of the body and attachments ("Taille")."""
    created_at: datetime
    read_at: datetime | None = None
    """When the receiving side first opened it."""
    is_system: bool = False


@define(slots=False, eq=False, kw_only=True)
class Attachment:
    """A file attached to a message, stored outside the web root under a random key."""

    id: int | None = None
    message_id: int
    family_id: int
    filename: str
    content_type: str
    size: int
    storage_key: str


@define(slots=False, eq=False, kw_only=True)
class GroupMessage:
    """A "Message groupé": one text from a service to every household of the chosen children
    (an activity on a day or range, a school, a class), recorded with who sent it and to whom.

    Its recipients (:class:`GroupMessageRecipient`) are fixed when it is sent; the background
    job ``inbox.group_message`` then posts one message in each household's inbox (and its
    e-mail), once per household, whatever the retries (docs/agents.md)."""

    id: int | None = None
    service: str
    subject: str
    body: str
    audience: str
    """The chosen children in words (``Cantine, du lundi 23 au mardi 24 novembre 2026``)."""
    created_at: datetime
    created_by: int | None = None
    author_label: str = ""
    recipients: int = 0
    """How many households it goes to (the count the agent confirmed)."""
    delivered_at: datetime | None = None
    """When the last household received it (``None`` while the job has some left)."""


@define(slots=False, eq=False, kw_only=True)
class GroupMessageRecipient:
    """One household of a :class:`GroupMessage`; ``message_id`` once it received it."""

    id: int | None = None
    group_message_id: int
    family_id: int
    message_id: int | None = None
