"""Logins, roles and the audit trail.

A login belongs to a **person** (a guardian or an agent), not to a household: each guardian
of a family can have their own login, and separated parents each see only their own household.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from attrs import define, field, frozen


class Role(StrEnum):
    """What a login may do."""

    PARENT = "parent"
    """A guardian ("responsable") acting for their own household."""
    AGENT = "agent"
    """A municipal agent of one service (ENFANCE, SCOLAIRE…)."""
    ADMIN = "admin"
    """A municipal administrator: every service."""


@define(slots=False, eq=False, kw_only=True)
class User:
    """A login (compte utilisateur)."""

    id: int | None = None
    email: str
    password_hash: str
    role: Role
    display_name: str
    family_id: int | None = None
    guardian_id: int | None = None
    service: str | None = None
    """For agents: the service whose mailbox and requests they handle (e.g. ``ENFANCE``)."""
    is_active: bool = True
    session_nonce: str = ""
    """Changed on logout, password change or deactivation: every older session dies."""
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    totp_secret: str | None = None
    """Base32 secret of the second factor (TOTP), when the user enabled it."""
    totp_last_step: int | None = None
    """The last accepted TOTP time step: a code is never accepted twice."""
    invited_at: datetime | None = None
    """When the last invitation (e-mail or letter) was made for this account."""
    activated_at: datetime | None = None
    """When the person chose their password; ``None`` while the account is only invited (it
    then has no usable password: see :mod:`famille_core.services.invitations`)."""

    @property
    def is_invited(self) -> bool:
        """True while the person has not yet chosen a password."""
        return self.activated_at is None

    @property
    def is_agent(self) -> bool:
        """True for municipal staff (agents and administrators)."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @property
    def mixes_roles(self) -> bool:
        """True for an agent account attached to a household. An account is an agent's **or** a
        household member's, never both (docs/security.md point 10): such an account is refused
        at creation and at login."""
        return self.is_agent and (self.family_id is not None or self.guardian_id is not None)


def _no_household_for_agents(actor: Actor, _attribute: object, family_id: int | None) -> None:
    if family_id is not None and actor.role in (Role.AGENT, Role.ADMIN):
        raise ValueError("an agent acts for the town, never for a household")


@frozen(kw_only=True)
class ActingAgent:
    """The agent behind an actor that acts for one household ("Agir pour la famille",
    docs/agents.md): kept so that every change names the agent, never the parents."""

    user_id: int
    role: Role
    service: str | None = None
    display_name: str = ""


@frozen(kw_only=True)
class Actor:
    """Who is asking: what every service receives to decide what is allowed.

    Built from a :class:`User` by the host (or by an ERP for its own calls).
    """

    user_id: int | None
    role: Role
    family_id: int | None = field(default=None, validator=_no_household_for_agents)
    """The household a parent acts for; always ``None`` for agents, whose reach over every
    household (:mod:`famille_core.services.access`) must never mix with one household's pages."""
    service: str | None = None
    display_name: str = ""
    authenticated_at: datetime | None = None
    """When this person last proved who they are (password typed); sensitive changes need a
    recent one (see :func:`famille_core.services.access.require_recent_login`)."""
    acting_agent: ActingAgent | None = None
    """Set when an agent acts for the household ``family_id`` (:meth:`acting_for`)."""

    @property
    def is_agent(self) -> bool:
        """True for municipal staff (agents and administrators)."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @property
    def is_acting(self) -> bool:
        """True when an agent acts for a household through this actor."""
        return self.acting_agent is not None

    @classmethod
    def acting_for(cls, agent: Actor, family_id: int) -> Actor:
        """The actor through which ``agent`` acts for the household ``family_id``.

        It has a household member's reach (that household's records only, the parents' rules
        through the same services) and the agent's identity: ``user_id`` is the agent's, so
        every row that names who made a change (``created_by``, the audit, the feed) names the
        agent; :attr:`acting_agent` keeps the agent's role and service for the few overrides
        that role allows (docs/agents.md).
        """
        if not agent.is_agent or agent.user_id is None or agent.is_acting:
            raise ValueError("only a logged-in agent acts for a household")
        return cls(
            user_id=agent.user_id,
            role=Role.PARENT,
            family_id=family_id,
            display_name=agent.display_name,
            authenticated_at=agent.authenticated_at,
            acting_agent=ActingAgent(
                user_id=agent.user_id,
                role=agent.role,
                service=agent.service,
                display_name=agent.display_name,
            ),
        )

    def as_agent(self) -> Actor:
        """The agent's own actor (the town's reach) behind an acting actor; ``self`` otherwise."""
        if self.acting_agent is None:
            return self
        agent = self.acting_agent
        return Actor(
            user_id=agent.user_id,
            role=agent.role,
            service=agent.service,
            display_name=agent.display_name,
            authenticated_at=self.authenticated_at,
        )

    @classmethod
    def for_user(cls, user: User, authenticated_at: datetime | None = None) -> Actor:
        """The actor of a logged-in user (an agent's actor never carries a household, even when
        the stored account wrongly has one: see :attr:`User.mixes_roles`)."""
        return cls(
            user_id=user.id,
            role=user.role,
            family_id=None if user.is_agent else user.family_id,
            service=user.service,
            display_name=user.display_name,
            authenticated_at=authenticated_at,
        )

    @classmethod
    def system(cls) -> Actor:
        """The portal itself (imports, scheduled jobs, payment notifications)."""
        return cls(user_id=None, role=Role.ADMIN, display_name="Portail")


@define(slots=False, eq=False, kw_only=True)
class PasswordResetToken:
    """A single-use, short-lived password reset link; only its hash is stored."""

    id: int | None = None
    user_id: int
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    purpose: str = "reset"
    """``reset`` (forgotten password), ``activation`` (invitation: link or letter code) or
    ``email`` (confirming a new login address, held in :attr:`new_email`)."""
    new_email: str | None = None


@define(slots=False, eq=False, kw_only=True)
class AuditRecord:
    """Who read or changed which sensitive record, and when — never the data itself."""

    id: int | None = None
    at: datetime
    actor_user_id: int | None
    action: str
    record_type: str
    record_id: int | None = None
    family_id: int | None = None
    api_client_id: int | None = None
    """The API client (an ERP) that read or changed the record, when it was not a person."""
    reason: str = ""
    """Why the agent did it, when a rule asked for a reason (a booking past its deadline made
    for a family: docs/agents.md)."""


@define(slots=False, eq=False, kw_only=True)
class ChangeRequest:
    """A change a family asked for that an agent must validate (e.g. bank details)."""

    id: int | None = None
    family_id: int
    section: str
    target_id: int | None = None
    payload: dict[str, Any] = field(factory=dict)
    state: str = "pending"
    created_at: datetime
    created_by: int | None = None
    decided_at: datetime | None = None
    decided_by: int | None = None
    decision_comment: str = ""
