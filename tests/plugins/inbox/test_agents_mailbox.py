"""The municipality's side: a mailbox per service, replies signed "agent SERVICE", conversations
marked handled and reopened by the family's next message, administrators reading every mailbox."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient

from famille_core import Conflict, Portal
from famille_core.entities import Actor, Direction, Family, Message, Role, Thread
from famille_plugins.inbox.services import agents, conversations, reading, sending
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import GUIDE_SUBJECT, read_on_screen, reply, send


def only_thread(portal: Portal) -> Thread:
    with portal.unit_of_work() as uow:
        (thread,) = uow.find(Thread)
        return thread


def mark(client: FlaskClient, thread_id: int, value: str) -> object:
    path = f"/gestion/messages/conversation/{thread_id}"
    return client.post(f"{path}/traitee", data={"handled": value, "csrf_token": csrf_token(client, path)})


def test_agent_reads_replies_and_marks_handled(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    send(parent_client)
    thread = only_thread(demo)
    assert agent_client.get("/gestion/messages/").headers["Location"].endswith("/gestion/messages/service/ENFANCE")
    todo = agent_client.get("/gestion/messages/service/ENFANCE").get_data(as_text=True)
    assert GUIDE_SUBJECT in todo and "DUPONT (694504900001)" in todo and "1 non lu" in todo
    page = f"/gestion/messages/conversation/{thread.id}"
    assert "Famille DUPONT (694504900001)" in agent_client.get(page).get_data(as_text=True)
    with demo.unit_of_work() as uow:
        (question,) = uow.find(Message)
        assert question.read_at is None  # showing the page changes nothing...
    assert read_on_screen(agent_client, page).status_code == 204  # type: ignore[attr-defined]
    with demo.unit_of_work() as uow:
        (question,) = uow.find(Message)
        assert question.read_at is not None  # ...the page's script marks it read once shown
    reply(agent_client, page, f"{page}/repondre", "C'est noté.")
    with demo.unit_of_work() as uow:
        answer = uow.first(Message, direction="from_collectivity")
        assert answer is not None and answer.author_label == "Magnus ENFANCE"
    response = mark(agent_client, thread.id or 0, "1")
    assert response.status_code == 302
    assert "Aucune conversation." in agent_client.get("/gestion/messages/service/ENFANCE").get_data(as_text=True)
    handled = agent_client.get("/gestion/messages/service/ENFANCE?etat=traitees").get_data(as_text=True)
    assert GUIDE_SUBJECT in handled
    # The family writes again: the conversation is back in "À traiter".
    family_page = f"/messages/{question.id}"
    reply(parent_client, family_page, f"/messages/conversation/{thread.id}/repondre", "Merci !")
    assert only_thread(demo).handled is False
    mark(agent_client, thread.id or 0, "1")
    mark(agent_client, thread.id or 0, "0")
    assert only_thread(demo).handled is False


def test_handled_mark_refuses_nonsense_and_missing_token(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    send(parent_client)
    thread = only_thread(demo)
    assert mark(agent_client, thread.id or 0, "peut-être").status_code == 400  # type: ignore[attr-defined]
    response = agent_client.post(f"/gestion/messages/conversation/{thread.id}/traitee", data={"handled": "1"})
    assert response.status_code == 400
    assert only_thread(demo).handled is False


def test_administrator_reads_every_mailbox(parent_client: FlaskClient, admin_client: FlaskClient) -> None:
    send(parent_client, subject="Inscription")
    admin = admin_client  # the demo's administrator, Alice
    overview = admin.get("/gestion/messages/").get_data(as_text=True)
    assert "Service ENFANCE" in overview and "1 conversation à traiter" in overview
    assert "Service SCOLAIRE</a> :\n    aucune conversation à traiter" in overview
    assert admin.get("/gestion/messages/service/SCOLAIRE").status_code == 200
    assert admin.get("/gestion/messages/service/INCONNU").status_code == 404


def test_a_message_arriving_meanwhile_is_not_hidden_by_the_handled_mark(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    location = send(parent_client).headers["Location"]
    thread = only_thread(demo)
    page = f"/gestion/messages/conversation/{thread.id}"
    token = csrf_token(agent_client, page)  # the agent reads the question…
    reply(parent_client, location, f"/messages/conversation/{thread.id}/repondre", "Autre question")
    # …and marks the conversation handled without having seen the new message.
    response = agent_client.post(f"{page}/traitee", data={"handled": "1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    shown = agent_client.get(page).get_data(as_text=True)
    assert "La famille a écrit entre-temps" in shown and "Autre question" in shown
    assert only_thread(demo).handled is False
    read_on_screen(agent_client, page)
    # Now that it is read, the mark is accepted.
    assert mark(agent_client, thread.id or 0, "1").status_code == 302  # type: ignore[attr-defined]
    assert only_thread(demo).handled is True


@pytest.mark.postgres
def test_reply_and_handled_mark_at_the_same_time_never_hide_a_message(demo: Portal) -> None:
    """PostgreSQL: the family's reply and the agent's mark race 10 times; afterwards a handled
    conversation never holds an unread family message."""
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None
        family = Actor(user_id=None, role=Role.PARENT, family_id=dupont.id, display_name="Marie DUPONT")
        agent = Actor(user_id=None, role=Role.AGENT, service="ENFANCE", display_name="Magnus")
        message = sending.send_message(demo, uow, family, "Question", "Texte")
        uow.commit()
    thread_id = message.thread_id
    for round_number in range(10):
        with demo.unit_of_work() as uow:
            shown = conversations.conversation(demo, uow, agent, thread_id)  # the agent has read everything
            reading.mark(demo, uow, agent, thread_id, read=True, shown=shown.unread)
            uow.commit()
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def family_replies(number: int = round_number, barrier: threading.Barrier = barrier) -> None:
            with demo.unit_of_work() as uow:
                barrier.wait()
                sending.reply(demo, uow, family, thread_id, f"Relance {number}")
                uow.commit()

        def agent_marks(barrier: threading.Barrier = barrier, errors: list[BaseException] = errors) -> None:
            with demo.unit_of_work() as uow:
                barrier.wait()
                try:
                    agents.set_handled(demo, uow, agent, thread_id, True)
                    uow.commit()
                except Conflict:
                    pass
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

        workers = [threading.Thread(target=family_replies), threading.Thread(target=agent_marks)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert not errors
        with demo.unit_of_work() as uow:
            thread = uow.get(Thread, thread_id)
            assert thread is not None
            unread = uow.count(Message, thread_id=thread_id, direction=Direction.FROM_FAMILY, read_at=None)
            assert unread == 1
            assert thread.handled is False, f"round {round_number}: a new message was hidden"
