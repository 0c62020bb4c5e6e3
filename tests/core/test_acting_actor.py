"""The actor of an agent acting for a family (docs/agents.md): one household's reach, the
agent's identity, and none of the sensitive changes."""

from __future__ import annotations

import pytest

from famille_core import Portal, feed
from famille_core.entities import Actor, Role
from famille_core.errors import NotFound
from famille_core.services.access import require_recent_login

AGENT = Actor(user_id=7, role=Role.AGENT, service="ENFANCE", display_name="Magnus")


def test_an_acting_actor_has_one_households_reach_and_the_agents_identity() -> None:
    acting = Actor.acting_for(AGENT, 3)
    assert not acting.is_agent and acting.family_id == 3 and acting.is_acting
    assert acting.user_id == 7  # every row naming who did it names the agent
    assert acting.as_agent() == AGENT
    assert feed.Author.of(acting) == feed.Author(kind=feed.AGENT, id=7, name="Magnus")


def test_only_a_logged_in_agent_acts_and_never_twice_over() -> None:
    parent = Actor(user_id=1, role=Role.PARENT, family_id=3)
    for who in (parent, Actor.system(), Actor.acting_for(AGENT, 3)):
        with pytest.raises(ValueError):
            Actor.acting_for(who, 4)


def test_an_acting_agent_makes_no_sensitive_change(portal: Portal) -> None:
    """IBAN, authorised persons, login e-mail: behind the agents' own pages and audit."""
    with pytest.raises(NotFound):
        require_recent_login(portal, Actor.acting_for(AGENT, 3))
