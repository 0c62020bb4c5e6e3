"""Mon compte and Mes enfants as shown: to the family, or to an agent (whose read of tax, bank
and health data is audited, docs/security.md point 25)."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from famille_core.entities import (
    Actor,
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    Child,
    ChildDetails,
    FiscalData,
    Guardian,
    HealthRecord,
)
from famille_core.portal import Portal
from famille_core.services.access import child_for
from famille_core.services.audit import audit
from famille_core.uow import UnitOfWork
from famille_plugins.profile.services.records import load_child_record, load_family_record
from famille_plugins.profile.services.sections import may_read_sensitive, require_parent


def family_id_of(actor: Actor) -> int:
    """The household a parent acts for."""
    return require_parent(actor)


@frozen
class AccountView:
    """What Mon compte shows (``fiscal`` and ``bank`` are ``None`` when not readable)."""

    family: Any
    responsable: Guardian | None
    conjoint: Guardian | None
    fiscal: FiscalData | None
    caf: CafInfo | None
    bank: BankDetails | None
    sensitive_visible: bool = True


def account_view(portal: Portal, uow: UnitOfWork, actor: Actor, family_id: int | None = None) -> AccountView:
    """The household's Mon compte; an agent's read of tax and bank data is audited."""
    from famille_core.services.access import family_for

    family = family_for(uow, actor, family_id)
    assert family.id is not None
    visible = may_read_sensitive(portal, actor)
    fiscal = load_family_record(uow, family.id, "fiscal") if visible else None
    bank = load_family_record(uow, family.id, "banque") if visible else None
    if actor.is_agent:
        for record, kind in ((fiscal, "fiscal_data"), (bank, "bank_details")):
            if record is not None:
                audit(portal, uow, actor, "read", kind, record.id, family.id)
    return AccountView(
        family=family,
        responsable=load_family_record(uow, family.id, "responsable"),
        conjoint=load_family_record(uow, family.id, "conjoint"),
        fiscal=fiscal,
        caf=load_family_record(uow, family.id, "caf"),
        bank=bank,
        sensitive_visible=visible,
    )


def my_children(uow: UnitOfWork, actor: Actor) -> list[Child]:
    """The parent's children (Mes enfants)."""
    from famille_core.services.access import children_of

    return children_of(uow, family_id_of(actor))


def visible_child(uow: UnitOfWork, actor: Actor, child_id: int) -> Child:
    """The child when the actor may see it, else :class:`NotFound`."""
    return child_for(uow, actor, child_id)


@frozen
class ChildView:
    """A child's record as shown to its family or to an agent."""

    child: Child
    persons: list[AuthorizedPerson]
    details: ChildDetails | None
    health: HealthRecord | None
    health_visible: bool = True


def child_view(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> ChildView:
    """The child's record; a parent sees their household's authorised persons only, and an
    agent's read of the health record is audited."""
    child = child_for(uow, actor, child_id)
    if actor.is_agent:
        persons = uow.find(AuthorizedPerson, child_id=child.id, order_by=("last_name", "id"))
    else:
        persons = uow.find(AuthorizedPerson, child_id=child.id, family_id=family_id_of(actor), order_by=("last_name", "id"))
    visible = may_read_sensitive(portal, actor)
    health = load_child_record(uow, child, "sanitaires") if visible else None
    if actor.is_agent and health is not None:
        audit(portal, uow, actor, "read", "health_record", health.id, None)
    return ChildView(
        child=child,
        persons=persons,
        details=load_child_record(uow, child, "complementaires"),
        health=health,
        health_visible=visible,
    )
