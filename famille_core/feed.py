"""The core's events in the domain feed (``/api/v1/events``), and the policy of a household
record.

The core tells the changes of what it owns: the household's identity as the ERP and the
portal change it (family, guardians, children: ``profile.created`` / ``profile.changed`` /
``profile.deleted``). Each plugin tells its own through ``domain_event_policies`` (the
payments' states: the billing plugin); :mod:`famille_core.persistence.events`
writes them in the change's transaction.
"""

from __future__ import annotations

from famille_core import entities as e
from famille_core.hooks.results import EventPolicy, FeedEvent

CREATED = FeedEvent(kind="profile.created")
CHANGED = FeedEvent(kind="profile.changed")
DELETED = FeedEvent(kind="profile.deleted")


def record_policy(entity_type: type, entity: str) -> EventPolicy:
    """A household record: ``profile.created``, ``profile.changed`` (any attribute) and
    ``profile.deleted``, without payload (the ERP reads the record itself)."""
    return EventPolicy(
        entity_type=entity_type,
        entity=entity,
        created=lambda _obj: CREATED,
        changed=lambda _obj, _changed: CHANGED,
        deleted=lambda _obj: DELETED,
    )


CORE_POLICIES = (
    record_policy(e.Family, "family"),
    record_policy(e.Guardian, "guardian"),
    record_policy(e.Child, "child"),
)
"""The events of the records the core owns."""
