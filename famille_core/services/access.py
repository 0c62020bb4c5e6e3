"""Object-level access: what an actor may see. Every service goes through these helpers.

A parent sees only their own household's records; a child is visible to a household only when
linked to it (:class:`FamilyChild`). Anything else answers :class:`NotFound`, exactly as a record
that does not exist.

Agents reach every household. That reach never mixes with a household's own pages: an agent's
:class:`Actor` carries no household, an account cannot be both an agent's and a household
member's, and the host's family pages refuse agents (docs/security.md point 10).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from famille_core.entities import Actor, Child, Family, FamilyChild
from famille_core.errors import NotFound, PermissionDenied, ReauthenticationRequired
from famille_core.uow import Linked, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

T = TypeVar("T")


def require_agent(actor: Actor) -> None:
    """Refuse anyone but municipal staff."""
    if not actor.is_agent:
        raise PermissionDenied("Réservé aux agents de la collectivité.")


def require_family(actor: Actor) -> int:
    """The actor's household id; refuses actors who act for no household."""
    if actor.family_id is None:
        raise PermissionDenied("Réservé aux familles.")
    return actor.family_id


def family_for(uow: UnitOfWork, actor: Actor, family_id: int | None = None) -> Family:
    """The household ``actor`` may act for (their own, or ``family_id`` for an agent)."""
    if not actor.is_agent:
        family_id = require_family(actor)
    family = uow.get(Family, family_id) if family_id is not None else None
    if family is None:
        raise NotFound("Famille introuvable.")
    return family


def children_of(uow: UnitOfWork, family_id: int) -> list[Child]:
    """The household's children, by first name (one query, whatever their number)."""
    household = Linked(FamilyChild, "child_id", {"family_id": family_id})
    return uow.find(Child, id=household, order_by=("first_name", "id"))


def child_for(uow: UnitOfWork, actor: Actor, child_id: int, family_id: int | None = None) -> Child:
    """The child, when ``actor`` may see it; otherwise :class:`NotFound` (one query)."""
    if actor.is_agent:
        child = uow.get(Child, child_id)
        if child is None:
            raise NotFound("Enfant introuvable.")
        return child
    household = require_family(actor)
    if family_id is not None and family_id != household:
        raise NotFound("Enfant introuvable.")
    # The child and the household's link to it in one query: no link, no child.
    link = Linked(FamilyChild, "child_id", {"family_id": household, "child_id": child_id})
    found = uow.find(Child, id=link)
    if not found:
        raise NotFound("Enfant introuvable.")
    return found[0]


def owned(entity: T | None, actor: Actor, what: str = "Élément") -> T:
    """``entity`` when it belongs to the actor's household (or the actor is an agent)."""
    if entity is None:
        raise NotFound(f"{what} introuvable.")
    if actor.is_agent:
        return entity
    if getattr(entity, "family_id", None) != require_family(actor):
        raise NotFound(f"{what} introuvable.")
    return entity


def require_recent_login(portal: Portal, actor: Actor) -> None:
    """Refuse a sensitive change (IBAN, authorised persons, e-mail) unless the person typed
    their password within ``[portal] recent_login_minutes``.

    The portal itself and ERP calls (actors without a user) are not concerned. An agent acting
    for a family never makes these changes through the family's pages: bank and health data
    stay behind the agents' own pages, their role checks and their audit (docs/agents.md).
    """
    if actor.is_acting:
        raise NotFound("Page introuvable.")
    if actor.user_id is None:
        return
    limit = timedelta(minutes=portal.settings.portal.recent_login_minutes)
    if actor.authenticated_at is None or portal.clock.now() - actor.authenticated_at > limit:
        raise ReauthenticationRequired()
