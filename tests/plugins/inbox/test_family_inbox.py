"""The parent's "Boîte de réception": columns, order, unread marks, opening, replies, paging,
the home panel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal, notify_family
from famille_core.entities import Direction, Family, Message, Thread
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import (
    GUIDE_BODY,
    GUIDE_SUBJECT,
    message_id_from,
    read_on_screen,
    reply,
    send,
)


def dupont_id(portal: Portal) -> int:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        assert family is not None and family.id is not None
        return family.id


def post_notice(portal: Portal, subject: str, body: str = "Texte.", service: str | None = "ENFANCE") -> int:
    with portal.unit_of_work() as uow:
        message_id = notify_family(portal, uow, dupont_id(portal), subject, body, service=service)
        uow.commit()
    assert message_id is not None
    return message_id


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr.*?</tr>", body, re.S)


def test_parent_sends_the_guide_example_and_sees_it_in_the_inbox(parent_client: FlaskClient, demo: Portal) -> None:
    response = send(parent_client)
    assert response.status_code == 302
    page = parent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre message a été envoyé au service ENFANCE." in page
    assert "Je souhaiterais inscrire mon fils exceptionnellement à la Cantine" in page
    inbox = parent_client.get("/messages/").get_data(as_text=True)
    for column in ("Qui", "Date", "Taille", "Objet"):
        assert f'<th scope="col">{column}</th>' in inbox
    (row,) = rows(inbox)
    assert "Marie DUPONT" in row and GUIDE_SUBJECT in row
    assert "16/11/2026 10:00:00" not in row and "16/11/2026 09:00:00" in row  # Europe/Paris
    assert f"{len(GUIDE_BODY.encode())}\N{NO-BREAK SPACE}octets" in row


def test_messages_are_newest_first_with_french_date_and_human_size(
    parent_client: FlaskClient, demo: Portal, clock: FixedClock
) -> None:
    post_notice(demo, "Cantine - inscription prise en compte", "x" * 2048)
    clock.advance(timedelta(minutes=10, seconds=14))  # stays within the session idle limit
    post_notice(demo, "Facture disponible")
    listed = rows(parent_client.get("/messages/").get_data(as_text=True))
    assert "Facture disponible" in listed[0]
    assert "16/11/2026 09:10:14" in listed[0]
    assert "Cantine - inscription prise en compte" in listed[1]
    assert "Service ENFANCE" in listed[1]
    assert "2\N{NO-BREAK SPACE}Ko" in listed[1]


def test_unread_is_bold_and_in_words_and_reading_the_page_marks_read(
    parent_client: FlaskClient, demo: Portal
) -> None:
    message_id = post_notice(demo, "Cantine - inscription prise en compte")
    (row,) = rows(parent_client.get("/messages/").get_data(as_text=True))
    assert 'class="unread"' in row and "Non lu" in row
    home = parent_client.get("/").get_data(as_text=True)
    assert '<a href="/messages/">Vous avez 1 nouveau message</a>' in home
    opened = parent_client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "Cantine - inscription prise en compte" in opened
    assert read_on_screen(parent_client, f"/messages/{message_id}").status_code == 204  # type: ignore[attr-defined]
    with demo.unit_of_work() as uow:
        message = uow.get(Message, message_id)
        assert message is not None and message.read_at is not None
    (row,) = rows(parent_client.get("/messages/").get_data(as_text=True))
    assert 'class="unread"' not in row and "Non lu" not in row
    assert "pas de nouveau message." in parent_client.get("/").get_data(as_text=True)


def test_home_counts_several_new_messages_in_the_plural(parent_client: FlaskClient, demo: Portal) -> None:
    post_notice(demo, "Un")
    post_notice(demo, "Deux")
    home = parent_client.get("/").get_data(as_text=True)
    assert "Vous avez 2 nouveaux messages" in home


def test_parent_replies_within_a_conversation(parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal) -> None:
    first = message_id_from(send(parent_client).headers["Location"])
    with demo.unit_of_work() as uow:
        message = uow.get(Message, first)
        assert message is not None
        thread_id = message.thread_id
    page = f"/gestion/messages/conversation/{thread_id}"
    answered = reply(agent_client, page, f"{page}/repondre", "Vous pouvez le faire en ligne.")
    assert answered.status_code == 302
    path = f"/messages/{first}"
    response = reply(parent_client, path, f"/messages/conversation/{thread_id}/repondre", "Merci !")
    assert response.status_code == 302
    conversation = parent_client.get(path).get_data(as_text=True)
    assert conversation.index("Vous pouvez le faire en ligne.") < conversation.index("Merci !")
    assert "Magnus ENFANCE" in conversation
    with demo.unit_of_work() as uow:
        messages = uow.find(Message, thread_id=thread_id, order_by=("id",))
        assert [m.direction for m in messages] == [
            Direction.FROM_FAMILY,
            Direction.FROM_COLLECTIVITY,
            Direction.FROM_FAMILY,
        ]
        assert messages[2].subject == f"Re : {GUIDE_SUBJECT}"


def test_empty_form_shows_field_errors_and_stores_nothing(parent_client: FlaskClient, demo: Portal) -> None:
    response = send(parent_client, subject="  ", body="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<a href="#f-subject">Titre : indiquez l&#39;objet de votre message.</a>' in page
    assert '<a href="#f-body">Message : écrivez votre message.</a>' in page
    assert 'aria-invalid="true"' in page
    with demo.unit_of_work() as uow:
        assert uow.count(Thread) == 0 and uow.count(Message) == 0


def test_pagination_splits_the_inbox(
    parent_client: FlaskClient, demo: Portal, clock: FixedClock
) -> None:
    for number in range(45):
        post_notice(demo, f"Avis {number:02d}")
        clock.advance(timedelta(seconds=1))
    first = parent_client.get("/messages/").get_data(as_text=True)
    assert len(rows(first)) == 20
    assert "Avis 44" in rows(first)[0]
    assert "page 1 sur 3" in first
    assert 'href="/messages/?page=2" rel="next"' in first
    third = parent_client.get("/messages/?page=3").get_data(as_text=True)
    assert len(rows(third)) == 5 and "Avis 00" in rows(third)[-1]
    assert 'aria-current="page"><span class="visually-hidden">Page </span>3' in third
    # Out-of-range and nonsense pages show the nearest real page, never an error.
    assert len(rows(parent_client.get("/messages/?page=99").get_data(as_text=True))) == 5
    assert len(rows(parent_client.get("/messages/?page=abc").get_data(as_text=True))) == 20


@pytest.mark.parametrize("method", ["post"])
def test_forms_without_csrf_token_are_refused(parent_client: FlaskClient, demo: Portal, method: str) -> None:
    response = parent_client.post("/messages/nouveau", data={"subject": "a", "body": "b"})
    assert response.status_code == 400
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0
    assert csrf_token(parent_client, "/messages/nouveau")
