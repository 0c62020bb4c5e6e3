"""Audit trail of sensitive reads and changes (health, bank, tax data): who, when, what — never
the data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from famille_core.entities import Actor, AuditRecord
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal


def audit(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: int | None,
    family_id: int | None = None,
    *,
    api_client_id: int | None = None,
    reason: str = "",
) -> AuditRecord:
    """Write one audit record in the caller's transaction (``api_client_id``: the ERP that
    read the record through the API, whose ``actor`` is :meth:`Actor.system`; ``reason``: why an
    agent overrode a rule, when the rule asks for one)."""
    record = AuditRecord(
        at=portal.clock.now(),
        actor_user_id=actor.user_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        family_id=family_id,
        api_client_id=api_client_id,
        reason=reason[:500],
    )
    uow.add(record)
    return record
