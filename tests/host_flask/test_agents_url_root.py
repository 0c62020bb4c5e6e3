"""One agents' URL root (every agents' page lives under ``/gestion/``: tests/host_flask/
test_access_matrix.py checks it route by route): the addresses the agents' pages had before (``/agenda/agents/…``, ``/mairie/messages/…``) answer a permanent
redirect to the same page at its new place — bookmarks and links in old e-mails keep working,
and a form drawn before the move still reaches its view."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Reservation, ReservationState
from tests.conftest import csrf_token

MOVED = [
    ("/agenda/agents/demandes", "/gestion/agenda/demandes"),
    ("/agenda/agents/effectifs?jour=2026-11-19", "/gestion/agenda/effectifs?jour=2026-11-19"),
    ("/agenda/agents/effectifs.csv?jour=2026-11-19", "/gestion/agenda/effectifs.csv?jour=2026-11-19"),
    ("/mairie/messages/", "/gestion/messages/"),
    ("/mairie/messages", "/gestion/messages/"),
    ("/mairie/messages/service/ENFANCE?etat=traitees", "/gestion/messages/service/ENFANCE?etat=traitees"),
]


@pytest.mark.parametrize(("old", "new"), MOVED)
def test_an_old_agents_address_redirects_to_its_new_place(agent_client: FlaskClient, old: str, new: str) -> None:
    answer = agent_client.get(old)
    if old == "/mairie/messages":  # Werkzeug's own slash redirect comes first, then ours
        answer = agent_client.get(answer.headers["Location"])
    assert answer.status_code == 308
    assert answer.headers["Location"] == new
    assert agent_client.get(new).status_code in (200, 302)  # the mailboxes page may go straight to the one
    followed = agent_client.get(old, follow_redirects=True)
    assert followed.status_code == 200
    assert followed.request.path == new.split("?")[0] or followed.request.path.startswith("/gestion/")


def test_a_form_posted_to_the_old_address_still_decides(agent_client: FlaskClient, demo: Portal) -> None:
    with demo.unit_of_work() as uow:
        pending = uow.first(Reservation, state=ReservationState.REQUESTED)
        assert pending is not None and pending.id is not None, "the demo holds a pending request"
        pending_id = pending.id
    token = csrf_token(agent_client, "/gestion/agenda/demandes")
    old = f"/agenda/agents/demandes/{pending_id}"
    answer = agent_client.post(old, data={"csrf_token": token, "decision": "accept"})
    assert answer.status_code == 308
    assert answer.headers["Location"] == f"/gestion/agenda/demandes/{pending_id}"
    with demo.unit_of_work() as uow:
        assert uow.get(Reservation, pending_id).state == ReservationState.REQUESTED  # type: ignore[union-attr]
    # What a browser does with a 308: the same method and body, to the new place (Werkzeug's
    # test client cannot replay a form body it already read, so the test does it).
    answer = agent_client.post(answer.headers["Location"], data={"csrf_token": token, "decision": "accept"},
                               follow_redirects=True)
    assert answer.status_code == 200
    assert "Demande acceptée." in answer.get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.get(Reservation, pending_id).state == ReservationState.ACCEPTED  # type: ignore[union-attr]


@pytest.mark.parametrize(("old", "new"), MOVED)
def test_the_old_address_tells_a_parent_no_more_than_the_new_one(
    parent_client: FlaskClient, old: str, new: str
) -> None:
    assert parent_client.get(new).status_code == 404
    assert parent_client.get(old, follow_redirects=True).status_code == 404


def test_the_old_address_sends_an_anonymous_visitor_to_the_login(client: FlaskClient, demo: Portal) -> None:
    answer = client.get("/agenda/agents/demandes")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/connexion")
