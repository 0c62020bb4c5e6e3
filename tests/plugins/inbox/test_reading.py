"""Reading is explicit (finding 22, docs/security.md point 16): a GET — a browser's prefetch, a
link checker, a crawler with the session — never marks a message read. The page marks what it
showed through a POST (its script once shown, or the "Marquer comme lu" button), and "Marquer
comme non lu" undoes it."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal, notify_family
from famille_core.entities import Family, Message, Thread
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import read_on_screen, reply, send


def _notice(portal: Portal, family: str = "DUPONT", subject: str = "Cantine - inscription prise en compte") -> int:
    with portal.unit_of_work() as uow:
        household = uow.first(Family, name=family)
        assert household is not None and household.id is not None
        message_id = notify_family(portal, uow, household.id, subject, "Texte.", service="ENFANCE")
        uow.commit()
    assert message_id is not None
    return message_id


def _read_at(portal: Portal, message_id: int) -> object:
    with portal.unit_of_work() as uow:
        message = uow.get(Message, message_id)
        assert message is not None
        return message.read_at


def _form(client: FlaskClient, path: str, form_id: str) -> tuple[str, dict[str, list[str]]]:
    page = client.get(path).get_data(as_text=True)
    found = re.search(rf'<form method="post" action="([^"]+)" class="read-mark" id="{form_id}"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no {form_id} form on {path}"
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', found.group(2)):
        fields.setdefault(name, []).append(value)
    return found.group(1), fields


def test_gets_of_any_kind_leave_the_message_unread(parent_client: FlaskClient, demo: Portal) -> None:
    message_id = _notice(demo)
    for headers in ({}, {"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"}, {"User-Agent": "Googlebot/2.1"}):
        response = parent_client.get(f"/messages/{message_id}", headers=headers)
        assert response.status_code == 200
        assert "Cantine - inscription prise en compte" in response.get_data(as_text=True)
    assert _read_at(demo, message_id) is None
    assert "Non lu" in parent_client.get("/messages/").get_data(as_text=True)
    assert "Vous avez 1 nouveau message" in parent_client.get("/").get_data(as_text=True)


def test_the_page_script_is_a_served_file_and_the_button_works_without_it(
    parent_client: FlaskClient, demo: Portal
) -> None:
    message_id = _notice(demo)
    page = parent_client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert re.search(r'<script src="/messages/static/read\.js" defer></script>', page)
    assert "<script>" not in page  # nothing inline (CSP)
    script = parent_client.get("/messages/static/read.js")
    assert script.status_code == 200 and "data-read-when-shown" in script.get_data(as_text=True)
    assert "Marquer comme lu" in page
    # Without JavaScript: the button, then back to the message with a message.
    action, fields = _form(parent_client, f"/messages/{message_id}", "mark-read")
    assert fields["message"] == [str(message_id)]
    response = parent_client.post(action, data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/messages/{message_id}")
    assert _read_at(demo, message_id) is not None
    shown = parent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "La conversation est marquée comme lue." in shown
    assert "Nouveau</span>" not in shown


def test_marking_unread_again(parent_client: FlaskClient, demo: Portal) -> None:
    message_id = _notice(demo)
    assert read_on_screen(parent_client, f"/messages/{message_id}").status_code == 204  # type: ignore[attr-defined]
    assert "pas de nouveau message." in parent_client.get("/").get_data(as_text=True)
    action, fields = _form(parent_client, f"/messages/{message_id}", "mark-unread")
    response = parent_client.post(action, data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith("/messages/")
    assert _read_at(demo, message_id) is None
    listing = parent_client.get("/messages/").get_data(as_text=True)
    assert "Le dernier message est marqué comme non lu." in listing and "Non lu" in listing
    assert "Vous avez 1 nouveau message" in parent_client.get("/").get_data(as_text=True)


def test_only_the_messages_the_page_showed_become_read(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    location = send(parent_client).headers["Location"]
    with demo.unit_of_work() as uow:
        (thread,) = uow.find(Thread)
    page = f"/gestion/messages/conversation/{thread.id}"
    action, fields = _form(agent_client, page, "mark-read")  # the agent's page is drawn...
    reply(parent_client, location, f"/messages/conversation/{thread.id}/repondre", "Autre question")
    # ...and its script marks read what it showed: the family's second message stays unread.
    assert agent_client.post(action, data=fields, headers={"X-Requested-With": "fetch"}).status_code == 204
    with demo.unit_of_work() as uow:
        unread = [m.body for m in uow.find(Message, thread_id=thread.id) if m.read_at is None]
    assert unread == ["Autre question"]
    handled = agent_client.post(f"{page}/traitee", data={"handled": "1", "csrf_token": csrf_token(agent_client, page)})
    assert handled.status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.get(Thread, thread.id).handled is False  # type: ignore[arg-type, union-attr]


def test_others_cannot_mark_and_bad_forms_change_nothing(
    parent_client: FlaskClient, agent_client: FlaskClient, app: Flask, demo: Portal
) -> None:
    mine = _notice(demo)
    theirs = _notice(demo, family="MARTIN", subject="Pour le foyer MARTIN")
    token = csrf_token(parent_client, f"/messages/{mine}")
    # Another household's message, by the family page, and the family page by an agent: 404.
    assert parent_client.post(f"/messages/{theirs}/lu", data={"csrf_token": token, "lu": "1", "message": str(theirs)}).status_code == 404
    agent_token = csrf_token(agent_client, "/gestion/messages/service/ENFANCE")
    assert agent_client.post(f"/messages/{theirs}/lu", data={"csrf_token": agent_token, "lu": "1", "message": str(theirs)}).status_code == 404
    # Naming another household's message from one's own conversation marks nothing of theirs.
    parent_client.post(f"/messages/{mine}/lu", data={"csrf_token": token, "lu": "1", "message": str(theirs)})
    # No CSRF token, a bad value, odd ids: refused or ignored, never a server error.
    assert parent_client.post(f"/messages/{mine}/lu", data={"lu": "1", "message": str(mine)}).status_code == 400
    assert parent_client.post(f"/messages/{mine}/lu", data={"csrf_token": token, "lu": "peut-être"}).status_code == 400
    odd = parent_client.post(f"/messages/{mine}/lu", data={"csrf_token": token, "lu": "1", "message": ["²", "99999999999", "-1", ""]})
    assert odd.status_code == 302
    assert _read_at(demo, mine) is None and _read_at(demo, theirs) is None
