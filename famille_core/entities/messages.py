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
