"""Cost: the inbox pages run a constant number of SQL queries whatever the number of messages
shown (counted with SQLAlchemy's ``before_cursor_execute`` event)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from famille_core import FixedClock, Portal
from famille_core.entities import Actor, Family, Role, Thread
from famille_core.uploads import Upload
from famille_plugins.inbox.services import sending
from tests.plugins.inbox.conftest import png_bytes
from tests.sql_counting import counting


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    """The pages' queries when they are rendered: without the fast pages' cache, which answers a
    repeated view with the session's and the versions' queries only (tests/host_flask/
    test_page_cache.py)."""
    return {**settings_data, "portal": {**settings_data["portal"], "page_cache_entries": 0}}


def queries(engine: Engine, request: Callable[[], Any]) -> int:
    with counting(engine) as statements:
        response = request()
        assert response.status_code == 200
    return len(statements)


def add_exchanges(portal: Portal, clock: FixedClock, count: int) -> None:
    """``count`` conversations of the DUPONT family, each with a file and the agent's answer."""
    with portal.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None
        family = Actor(
            user_id=None, role=Role.PARENT, family_id=dupont.id, display_name="Marie DUPONT"
        )
        agent = Actor(user_id=None, role=Role.AGENT, service="ENFANCE", display_name="Magnus")
        for number in range(count):
            message = sending.send_message(
                portal,
                uow,
                family,
                f"Question {number}",
                "Texte",
                [Upload("plan.png", png_bytes())],
            )
            sending.reply(portal, uow, agent, message.thread_id, f"Réponse {number}")
            clock.advance(timedelta(seconds=1))
        uow.commit()


def test_inbox_page_costs_the_same_for_one_or_a_full_page_of_messages(
    parent_client: FlaskClient, demo: Portal, engine: Engine, clock: FixedClock
) -> None:
    add_exchanges(demo, clock, 1)
    few = queries(engine, lambda: parent_client.get("/messages/"))
    add_exchanges(demo, clock, 29)  # 60 messages: a full page of 20, and more pages
    many = queries(engine, lambda: parent_client.get("/messages/"))
    page_three = queries(engine, lambda: parent_client.get("/messages/?page=3"))
    assert few == many == page_three, (few, many, page_three)
    assert many <= 10


def test_home_panel_and_conversation_and_mailbox_are_constant_too(
    parent_client: FlaskClient,
    agent_client: FlaskClient,
    demo: Portal,
    engine: Engine,
    clock: FixedClock,
) -> None:
    add_exchanges(demo, clock, 1)
    with demo.unit_of_work() as uow:
        (thread,) = uow.find(Thread)
    home_few = queries(engine, lambda: parent_client.get("/"))
    mailbox_few = queries(engine, lambda: agent_client.get("/gestion/messages/service/ENFANCE"))
    add_exchanges(demo, clock, 25)
    assert queries(engine, lambda: parent_client.get("/")) == home_few
    assert (
        queries(engine, lambda: agent_client.get("/gestion/messages/service/ENFANCE")) == mailbox_few
    )
    # A long conversation: one thread with many messages and files.
    agent = Actor(user_id=None, role=Role.AGENT, service="ENFANCE", display_name="Magnus")
    path = f"/gestion/messages/conversation/{thread.id}"
    agent_client.get(path)  # first opening marks read (one UPDATE); count the next ones
    short = queries(engine, lambda: agent_client.get(path))
    with demo.unit_of_work() as uow:
        for number in range(15):
            sending.reply(
                demo,
                uow,
                agent,
                thread.id or 0,
                f"Précision {number}",
                [Upload("p.png", png_bytes())],
            )
        uow.commit()
    assert queries(engine, lambda: agent_client.get(path)) == short
