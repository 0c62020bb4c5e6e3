"""The agent's decision reaches the family's inbox when the inbox plugin is enabled."""

from __future__ import annotations

import pytest

from famille_core.entities import Message
from famille_plugins.calendar.services import agents
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book


def _pending(cal: Demo) -> int:
    with cal.portal.unit_of_work() as uow:
        rows = agents.pending_requests(uow, cal.agent)
        return next(r.reservation.id for r in rows if r.child.id == cal.emma)  # type: ignore[return-value]


def test_inbox_message_when_the_inbox_plugin_is_enabled(cal: Demo) -> None:
    """With the real inbox plugin (when it implements ``post_family_notice``), the family finds
    the answer in its messages; no test plugin stands in for it here."""
    from famille_plugins.inbox import plugin as inbox_plugin

    if not hasattr(inbox_plugin, "post_family_notice"):
        pytest.skip("the inbox plugin does not post system messages yet")
    book(cal, cal.emma, cal.soir, FIRST_OPEN_DAY)
    with cal.portal.unit_of_work() as uow:
        agents.decide(cal.portal, uow, cal.agent, _pending(cal), True)
        uow.commit()
    with cal.portal.unit_of_work() as uow:
        subjects = [m.subject for m in uow.find(Message, family_id=cal.family_id)]
    assert "Accueil du soir - inscription prise en compte" in subjects
