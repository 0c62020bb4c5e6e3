"""The municipality's side: a mailbox per service, replies signed "agent SERVICE", conversations
marked handled and reopened by the family's next message, administrators reading every mailbox."""

from __future__ import annotations

from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Message, Role, Thread
from famille_core.services.accounts import create_user
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import GUIDE_SUBJECT, logged_in, reply, send


def only_thread(portal: Portal) -> Thread:
    with portal.unit_of_work() as uow:
        (thread,) = uow.find(Thread)
        return thread


def mark(client: FlaskClient, thread_id: int, value: str) -> object:
    path = f"/mairie/messages/conversation/{thread_id}"
    return client.post(f"{path}/traitee", data={"handled": value, "csrf_token": csrf_token(client, path)})


def test_agent_reads_replies_and_marks_handled(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    send(parent_client)
    thread = only_thread(demo)
    assert agent_client.get("/mairie/messages/").headers["Location"].endswith("/mairie/messages/service/ENFANCE")
    todo = agent_client.get("/mairie/messages/service/ENFANCE").get_data(as_text=True)
    assert GUIDE_SUBJECT in todo and "DUPONT (694504900001)" in todo and "1 non lu" in todo
    page = f"/mairie/messages/conversation/{thread.id}"
    assert "Famille DUPONT (694504900001)" in agent_client.get(page).get_data(as_text=True)
    with demo.unit_of_work() as uow:
        (question,) = uow.find(Message)
        assert question.read_at is not None  # the agent opened it
    reply(agent_client, page, f"{page}/repondre", "C'est noté.")
    with demo.unit_of_work() as uow:
        answer = uow.first(Message, direction="from_collectivity")
        assert answer is not None and answer.author_label == "Magnus ENFANCE"
    response = mark(agent_client, thread.id or 0, "1")
    assert response.status_code == 302
    assert "Aucune conversation." in agent_client.get("/mairie/messages/service/ENFANCE").get_data(as_text=True)
    handled = agent_client.get("/mairie/messages/service/ENFANCE?etat=traitees").get_data(as_text=True)
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
    response = agent_client.post(f"/mairie/messages/conversation/{thread.id}/traitee", data={"handled": "1"})
    assert response.status_code == 400
    assert only_thread(demo).handled is False


def test_administrator_reads_every_mailbox(parent_client: FlaskClient, app: object, demo: Portal) -> None:
    with demo.unit_of_work() as uow:
        create_user(demo, uow, email="admin@example.org", password="Zèbre-violet-42-horizon", role=Role.ADMIN, display_name="Alice")
        uow.commit()
    send(parent_client, subject="Inscription")
    admin = logged_in(app, "admin@example.org", "Zèbre-violet-42-horizon")  # type: ignore[arg-type]
    overview = admin.get("/mairie/messages/").get_data(as_text=True)
    assert "Service ENFANCE" in overview and "1 conversation à traiter" in overview
    assert "Service SCOLAIRE" in overview and "0 conversation" in overview
    assert admin.get("/mairie/messages/service/SCOLAIRE").status_code == 200
    assert admin.get("/mairie/messages/service/INCONNU").status_code == 404
