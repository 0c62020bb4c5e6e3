"""The core's events in the domain feed (``/api/v1/events``), and the policy of a household
record.

The core tells the changes of what it owns: the household's identity as the ERP and the
portal change it (family, guardians, children: ``profile.created`` / ``profile.changed`` /
``profile.deleted``). Each plugin tells its own through ``domain_event_policies`` (the
payments' states: the billing plugin); :mod:`famille_core.persistence.events`
writes them in the change's transaction.

Each event says what changed (the policy's ``fields``, old and new values; "changed" only for
sensitive ones) and who changed it: the :class:`Author` that the code handling the request set
with :func:`acting_as` (the web host: the logged-in parent or agent; the API: the ERP client),
the portal itself otherwise (an import, a scheduled job).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs
from attrs import frozen

from famille_core import entities as e
from famille_core.hooks.results import EventPolicy, FeedEvent

PARENT, AGENT, API_CLIENT, SYSTEM = "parent", "agent", "api_client", "system"


@frozen(kw_only=True)
class Author:
    """Who made a change: ``kind`` (``parent``, ``agent``, ``api_client``, ``system``) and the
    id of the user or API client; ``name`` for an agent or an ERP client (never a parent's)."""

    kind: str
    id: int | None = None
    name: str = ""

    @classmethod
    def of(cls, actor: e.Actor) -> Author:
        """The author of the changes ``actor`` makes."""
        if actor.user_id is None:
            return SYSTEM_AUTHOR
        if actor.acting_agent is not None:  # an agent acting for the household: the town did it
            return cls(kind=AGENT, id=actor.acting_agent.user_id, name=actor.acting_agent.display_name)
        if actor.is_agent:
            return cls(kind=AGENT, id=actor.user_id, name=actor.display_name)
        return cls(kind=PARENT, id=actor.user_id)

    def as_payload(self) -> dict[str, Any]:
        """The author as the feed stores it."""
        return attrs.asdict(self)


SYSTEM_AUTHOR = Author(kind=SYSTEM)
_AUTHOR: ContextVar[Author] = ContextVar("famille_feed_author", default=SYSTEM_AUTHOR)


def current_author() -> Author:
    """The author of the changes made now (:data:`SYSTEM_AUTHOR` unless set)."""
    return _AUTHOR.get()


@contextmanager
def acting_as(author: Author) -> Iterator[Author]:
    """Attribute the changes committed inside the block to ``author``."""
    token = _AUTHOR.set(author)
    try:
        yield author
    finally:
        _AUTHOR.reset(token)


def set_author(author: Author) -> None:
    """Attribute the changes of the current context to ``author`` until :func:`set_author` is
    called again (the web host sets it for each request and back to the system after)."""
    _AUTHOR.set(author)

CREATED = FeedEvent(kind="profile.created")
CHANGED = FeedEvent(kind="profile.changed")
DELETED = FeedEvent(kind="profile.deleted")


def record_policy(
    entity_type: type, entity: str, *, sensitive: tuple[str, ...] | None = None
) -> EventPolicy:
    """A household record: ``profile.created``, ``profile.changed`` (any attribute) and
    ``profile.deleted``, listing the changes of every attribute of the record but its id,
    version and links (``sensitive``: those told without their values; ``None``: none;
    ``("*",)``: all)."""
    skipped = {"id", "version", "family_id", "child_id"}
    fields = tuple(a.name for a in attrs.fields(entity_type) if a.name not in skipped)
    hidden = fields if sensitive == ("*",) else tuple(sensitive or ())
    return EventPolicy(
        entity_type=entity_type,
        entity=entity,
        created=lambda _obj: CREATED,
        changed=lambda _obj, _changed: CHANGED,
        deleted=lambda _obj: DELETED,
        fields=fields,
        sensitive=lambda _obj: hidden,
    )


CORE_POLICIES = (
    record_policy(e.Family, "family"),
    record_policy(e.Guardian, "guardian"),
    record_policy(e.Child, "child", sensitive=("photo_key",)),
)
"""The events of the records the core owns."""


def event_document(event: e.DomainEvent) -> dict[str, Any]:
    """An event as the ERP reads it (``GET /api/v1/events``, a webhook's body): what changed
    and who changed it taken out of the stored payload."""
    payload = dict(event.payload)
    changes = payload.pop("changes", [])
    author = payload.pop("author", None)
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "family_id": event.family_id,
        "payload": payload,
        "changes": changes,
        "author": author,
    }
