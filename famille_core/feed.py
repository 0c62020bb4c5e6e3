"""The core's events in the domain feed (``/api/v1/events``), and the policy of a household
record.

The core tells the changes of what it owns: the household's identity as the ERP and the
portal change it (family, guardians, children: ``profile.created`` / ``profile.changed`` /
``profile.deleted``) and the payments' states (``payment.made``, ``payment.<state>``). Each
plugin tells its own through ``domain_event_policies``; :mod:`famille_core.persistence.events`
writes them in the change's transaction.
"""

from __future__ import annotations

from typing import Any

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


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


def _payment(payment: e.PaymentTransaction, changed: Any) -> FeedEvent | None:
    if not changed("state"):
        return None
    state = _state(payment.state)
    kind = "payment.made" if state == "paid" else f"payment.{state}"
    return FeedEvent(kind=kind, payload={"invoice_id": payment.invoice_id, "state": state})


CORE_POLICIES = (
    record_policy(e.Family, "family"),
    record_policy(e.Guardian, "guardian"),
    record_policy(e.Child, "child"),
    EventPolicy(entity_type=e.PaymentTransaction, entity="payment", changed=_payment),
)
"""The events of the records the core owns."""
