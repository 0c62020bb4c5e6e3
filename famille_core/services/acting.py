"""Agents acting for a family ("Agir pour la famille", docs/agents.md).

An agent on the phone with a parent opens the family's Agenda, invoices and inbox as the parent
sees them and acts **through the same services**, with an :class:`~famille_core.entities.Actor`
made by :meth:`Actor.acting_for`: a household member's reach (that household only, the parents'
rules) that keeps the agent's identity. This module says who may act, writes the audit rows
naming the agent, tells the family what the town did for it, and holds the one override an
agent's role allows: a deadline passed, with a required reason.

Who may act: administrators, and the agents of ``[portal] acting_services``; anyone else gets
:class:`NotFound`, like a page that does not exist (docs/security.md point 10).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from famille_core.entities import Actor, Family, Role
from famille_core.errors import Issue, NotFound
from famille_core.notify import notify_family
from famille_core.services.audit import audit
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

RECORD = "family"
MAX_REASON_CHARS = 500
TOWN_SUBJECT = "Fait pour vous par la mairie"


def may_act(portal: Portal, actor: Actor) -> bool:
    """True for administrators and the agents of ``[portal] acting_services`` (never for an
    actor already acting for a household)."""
    if not actor.is_agent or actor.user_id is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    return actor.service in portal.settings.portal.acting_services


def require_may_act(portal: Portal, actor: Actor) -> None:
    """Refuse, as a page that does not exist, an agent who may not act for a family."""
    if not may_act(portal, actor):
        raise NotFound("Page introuvable.")


def acting_actor(portal: Portal, uow: UnitOfWork, agent: Actor, family_id: int) -> tuple[Actor, Family]:
    """The actor through which ``agent`` acts for ``family_id``, and the household (checked at
    each request: an agent whose role changed, or a household removed, stops acting)."""
    require_may_act(portal, agent)
    family = uow.get(Family, family_id)
    if family is None:
        raise NotFound("Famille introuvable.")
    return Actor.acting_for(agent, family_id), family


def start(portal: Portal, uow: UnitOfWork, agent: Actor, family_id: int) -> Family:
    """Begin acting for ``family_id`` (audited with the agent's name)."""
    _actor, family = acting_actor(portal, uow, agent, family_id)
    audit(portal, uow, agent, "acting.started", RECORD, family_id, family_id)
    return family


def end(portal: Portal, uow: UnitOfWork, agent: Actor, family_id: int) -> None:
    """Stop acting for ``family_id`` (audited)."""
    audit(portal, uow, agent.as_agent(), "acting.ended", RECORD, family_id, family_id)


def viewed(portal: Portal, uow: UnitOfWork, actor: Actor, page: str) -> None:
    """Audit that the agent acting as ``actor`` read ``page`` (an endpoint name, never the data)
    of the household."""
    audit(portal, uow, actor, "acting.viewed", page[:50], None, actor.family_id)


def record(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: int | None,
    *,
    told: str = "",
    reason: str = "",
) -> None:
    """When ``actor`` is an agent acting for a family: write the audit row naming the agent
    (``acting.<action>``, with the override's ``reason``), and, when ``told`` says what was done,
    tell the family in its inbox that the town did it. Nothing for a parent."""
    agent = actor.acting_agent
    if agent is None or actor.family_id is None:
        return
    audit(portal, uow, actor, f"acting.{action}", record_type, record_id, actor.family_id, reason=reason)
    if told:
        tell(portal, uow, actor, told, reason=reason)


def tell(portal: Portal, uow: UnitOfWork, actor: Actor, told: str, *, reason: str = "") -> None:
    """When ``actor`` is an agent acting for a family: a message in the family's inbox saying
    what the town did for it (``told``) and why, when a reason was given (inside
    :func:`one_notice`, one line of its single message). Nothing for a parent."""
    agent = actor.acting_agent
    if agent is None or actor.family_id is None:
        return
    line = f"{told}\nMotif indiqué : {reason}" if reason else told
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(line)
        return
    _post(portal, uow, actor, [line])


def _post(portal: Portal, uow: UnitOfWork, actor: Actor, lines: list[str]) -> None:
    agent = actor.acting_agent
    assert agent is not None and actor.family_id is not None
    body = "\n".join(lines) + (
        f"\n\nCette action a été faite par la mairie ({agent.display_name}) pour votre foyer."
    )
    notify_family(portal, uow, actor.family_id, TOWN_SUBJECT, body, service=agent.service or None)


_COLLECTED: ContextVar[list[str] | None] = ContextVar("famille_acting_told", default=None)


@contextmanager
def one_notice(portal: Portal, uow: UnitOfWork, actor: Actor) -> Iterator[None]:
    """Tell the family in **one** message what the town did inside the block (a weekly pattern,
    the household's many boxes: one line per day, not one message and e-mail per day)."""
    if actor.acting_agent is None or _COLLECTED.get() is not None:
        yield
        return
    lines: list[str] = []
    token = _COLLECTED.set(lines)
    try:
        yield
    finally:
        _COLLECTED.reset(token)
    if lines:
        _post(portal, uow, actor, lines)


def may_override_deadline(actor: Actor, service: str) -> bool:
    """True when ``actor`` is an agent acting for a family whose role handles ``service``
    (an administrator, an agent without a service, or an agent of that service): they may book
    or cancel past the deadline, giving a reason. Parents never may."""
    agent = actor.acting_agent
    if agent is None:
        return False
    return agent.role is Role.ADMIN or not agent.service or agent.service == service


def override_issues(reason: str, field: str = "override_reason") -> list[Issue]:
    """What is wrong with the reason of an override (empty when it is given and fits)."""
    reason = reason.strip()
    if not reason:
        return [
            Issue(
                "override_reason_required",
                "Le délai est dépassé : indiquez le motif pour agir hors délai.",
                field,
            )
        ]
    if len(reason) > MAX_REASON_CHARS:
        return [Issue("too_long", f"Motif : {MAX_REASON_CHARS} caractères au plus.", field)]
    return []
