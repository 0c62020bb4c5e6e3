"""The agents' side of accounts ("Comptes"): finding an account, its state, re-inviting,
deactivating, ending sessions, and the administrators' creation of agents.

Reserved to administrators and to the agents of ``[portal] account_services``; anyone else gets
:class:`NotFound`, like a page that does not exist (docs/security.md points 10 and 12). Every
action writes an audit row naming the agent (point 25).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from attrs import frozen

from famille_core.entities import Actor, AuditRecord, Family, Role, User
from famille_core.errors import Issue, NotFound, ValidationFailed, raise_if
from famille_core.services import accounts
from famille_core.services.audit import audit
from famille_core.services.email_change import address_issues
from famille_core.services.invitations import Invitation, invite_account
from famille_core.uow import Contains, In, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

RECORD = "user_account"


class AccountState(StrEnum):
    """What the "Comptes" pages show of an account."""

    INVITED = "invité"
    ACTIVE = "actif"
    LOCKED = "verrouillé"
    """Too many wrong passwords lately (the host's attempt limiter says so)."""
    DISABLED = "désactivé"


def state_of(user: User, *, locked: bool = False) -> AccountState:
    """The state of ``user``; ``locked`` comes from the host's attempt limiter."""
    if not user.is_active:
        return AccountState.DISABLED
    if user.is_invited:
        return AccountState.INVITED
    return AccountState.LOCKED if locked else AccountState.ACTIVE


def may_manage_accounts(portal: Portal, actor: Actor) -> bool:
    """True for administrators and the agents of ``[portal] account_services``."""
    if actor.role is Role.ADMIN:
        return True
    return actor.is_agent and actor.service in portal.settings.portal.account_services


def require_account_manager(portal: Portal, actor: Actor) -> None:
    """Refuse, as a page that does not exist, anyone who may not manage accounts."""
    if not may_manage_accounts(portal, actor):
        raise NotFound("Page introuvable.")


def require_admin(actor: Actor) -> None:
    """Refuse, as a page that does not exist, anyone but an administrator."""
    if actor.role is not Role.ADMIN:
        raise NotFound("Page introuvable.")


PAGE_SIZE = 50


def search(
    portal: Portal, uow: UnitOfWork, actor: Actor, text: str = "", page: int = 1
) -> tuple[list[User], int]:
    """Accounts whose name or address contains ``text`` (or whose household's name or number
    does), by name; one page of :data:`PAGE_SIZE` and the total."""
    require_account_manager(portal, actor)
    text = text.strip()
    criteria: list[dict[str, Any]] = [{}]
    if text:
        families = uow.find(Family, name=Contains(text)) + uow.find(
            Family, family_number=Contains(text)
        )
        criteria = [
            {"display_name": Contains(text)},
            {"email": Contains(accounts.normalise_email(text))},
            {"family_id": In([family.id for family in families])},
        ]
    found: dict[int | None, User] = {}
    for where in criteria:
        for user in uow.find(User, order_by=("display_name", "id"), **where):
            found[user.id] = user
    users = sorted(found.values(), key=lambda user: (user.display_name.casefold(), user.id or 0))
    start = (max(page, 1) - 1) * PAGE_SIZE
    return users[start : start + PAGE_SIZE], len(users)


def account_for(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """One account, for an agent who may manage accounts."""
    require_account_manager(portal, actor)
    user = uow.get(User, user_id)
    if user is None:
        raise NotFound("Compte introuvable.")
    return user


def reinvite(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> Invitation:
    """Send (or print) a new invitation; the older codes end."""
    user = account_for(portal, uow, actor, user_id)
    return invite_account(portal, uow, actor, user)


def deactivate(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """Close an account: its sessions end and it can no longer log in. Nobody deactivates
    their own account (an administrator could lock the town out)."""
    user = account_for(portal, uow, actor, user_id)
    if user.id == actor.user_id:
        raise ValidationFailed.single("own_account", "Vous ne pouvez pas désactiver votre propre compte.")
    if user.is_active:
        user.is_active = False
        accounts.revoke_sessions(user)
        audit(portal, uow, actor, "account_deactivated", RECORD, user.id, user.family_id)
    return user


def reactivate(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """Open a deactivated account again (with its password, or still to be activated)."""
    user = account_for(portal, uow, actor, user_id)
    if not user.is_active:
        user.is_active = True
        audit(portal, uow, actor, "account_reactivated", RECORD, user.id, user.family_id)
    return user


def end_sessions(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """Log the account out everywhere (every session cookie becomes worthless)."""
    user = account_for(portal, uow, actor, user_id)
    accounts.revoke_sessions(user)
    audit(portal, uow, actor, "account_sessions_ended", RECORD, user.id, user.family_id)
    return user


def record_unlock(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """Audit the unlocking of an account (the host clears its attempt counters)."""
    user = account_for(portal, uow, actor, user_id)
    audit(portal, uow, actor, "account_unlocked", RECORD, user.id, user.family_id)
    return user


def record_letters(portal: Portal, uow: UnitOfWork, actor: Actor, count: int) -> None:
    """Audit the printing of ``count`` invitation letters (each invitation is audited too)."""
    require_account_manager(portal, actor)
    audit(portal, uow, actor, f"letters_printed_{min(count, 9999)}", RECORD, None)


@frozen
class HistoryLine:
    """One audited action on an account, with the agent who made it."""

    record: AuditRecord
    agent: str


ACTIONS = {
    "account_invited": "invitation envoyée",
    "account_deactivated": "compte désactivé",
    "account_reactivated": "compte réactivé",
    "account_sessions_ended": "sessions terminées",
    "account_unlocked": "compte déverrouillé",
    "agent_created": "compte agent créé",
}
"""How the history names each audited action."""


def history(portal: Portal, uow: UnitOfWork, actor: Actor, user_id: int) -> list[HistoryLine]:
    """The audited actions on an account, newest first, each with the agent's name."""
    account_for(portal, uow, actor, user_id)
    records = uow.find(AuditRecord, record_type=RECORD, record_id=user_id, order_by=("-at", "-id"))
    ids = {record.actor_user_id for record in records if record.actor_user_id is not None}
    names = {user.id: user.display_name for user in uow.find(User, id=In(list(ids)))} if ids else {}
    return [
        HistoryLine(record, names.get(record.actor_user_id, "Portail")) for record in records
    ]


def create_agent(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    *,
    email: str,
    display_name: str,
    role: Role,
    service: str | None,
) -> Invitation:
    """An administrator creates an agent's (or administrator's) account and invites them: the
    agent chooses their password from the e-mailed link (and, where required, enrols a second
    factor at their first login)."""
    require_admin(actor)
    email = accounts.normalise_email(email)
    issues = address_issues(email)
    display_name = display_name.strip()
    service = (service or "").strip().upper() or None
    if role not in (Role.AGENT, Role.ADMIN):
        issues.append(Issue("role", "Rôle inconnu.", "role"))
    if not display_name:
        issues.append(Issue("required", "Le nom est obligatoire.", "display_name"))
    if role is Role.AGENT and service is None:
        issues.append(Issue("required", "Le service de l'agent est obligatoire.", "service"))
    if not issues and uow.first(User, email=email) is not None:
        # Only administrators read this: they manage every account anyway.
        issues.append(Issue("email_taken", "Cette adresse est déjà utilisée.", "email"))
    raise_if(issues)
    user = User(
        email=email,
        password_hash=accounts.NO_PASSWORD,
        role=role,
        display_name=display_name,
        service=service,
        session_nonce=accounts.new_nonce(),
        created_at=portal.clock.now(),
    )
    uow.add(user)
    uow.flush()
    audit(portal, uow, actor, "agent_created", RECORD, user.id)
    return invite_account(portal, uow, actor, user)
