""""Message groupé" (issue 15 point 3, docs/agents.md): the households of the chosen children,
each once (both households of a child of separated parents), a preview of the count, the inbox
and e-mail through the background queue, recorded and audited; 404 for agents without a
mailbox."""

from __future__ import annotations

import html
import re
import threading
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import (
    Activity,
    AuditRecord,
    Family,
    GroupMessage,
    GroupMessageRecipient,
    Message,
    OutgoingEmail,
    User,
)
from tests.conftest import agent_of_service, csrf_token, login
from tests.jobs_helpers import run_queued

THURSDAY = date(2026, 11, 19)
SUBJECT = "Grève du jeudi 19 novembre"


def _activity(portal: Portal, code: str) -> int:
    with portal.unit_of_work() as uow:
        activity = uow.first(Activity, code=code)
        assert activity is not None and activity.id is not None
        return activity.id


def _families(portal: Portal) -> dict[int, str]:
    with portal.unit_of_work() as uow:
        return {family.id: family.name for family in uow.find(Family) if family.id is not None}


def _form(portal: Portal, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": "activite",
        "activity_id": _activity(portal, "SOIR"),
        "start": THURSDAY.isoformat(),
        "end": "",
        "school": "",
        "class_level": "",
        "service": "ENFANCE",
        "subject": SUBJECT,
        "body": "L'accueil du soir est fermé jeudi pour cause de grève.",
    }
    return {**data, **changes}


def _preview(client: FlaskClient, data: dict[str, Any]) -> Any:
    token = csrf_token(client, "/gestion/messages/groupe")
    return client.post("/gestion/messages/groupe/apercu", data={**data, "csrf_token": token})


def _send(client: FlaskClient, data: dict[str, Any], expected: int) -> Any:
    token = csrf_token(client, "/gestion/messages/groupe")
    return client.post("/gestion/messages/groupe/envoyer", data={**data, "expected": expected, "csrf_token": token})


def test_the_preview_counts_the_households_of_the_chosen_children(demo: Portal, agent_client: FlaskClient) -> None:
    """SOIR on Thursday: Lucas and Emma (DUPONT), Léa (separated parents: MARTIN and BERNARD)."""
    page = _preview(agent_client, _form(demo))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 foyers recevront ce message" in text and "Envoyer à 3 foyers" in text
    by_class = _preview(agent_client, _form(demo, kind="ecole", school="École Jules Ferry", class_level="CE1"))
    assert "2 foyers recevront ce message" in by_class.get_data(as_text=True)
    canteen = _preview(agent_client, _form(demo, activity_id=_activity(demo, "CANTINE")))
    assert "4 foyers recevront ce message" in canteen.get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.count(GroupMessage) == 0 and uow.count(Message, subject=SUBJECT) == 0  # a preview sends nothing


def test_an_activity_run_at_two_sites_can_be_written_to_at_one(demo: Portal, agent_client: FlaskClient) -> None:
    """Lucas's after-school care moves to another site: a message to that site reaches his
    household only; the Jules Ferry one still reaches Emma's and both of Léa's."""
    from famille_core.entities import Child, Enrollment

    soir = _activity(demo, "SOIR")
    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas", last_name="DUPONT")
        assert lucas is not None
        for enrolment in uow.find(Enrollment, child_id=lucas.id, activity_id=soir):
            enrolment.site = "Centre de loisirs Prévert"
        uow.commit()
    form = agent_client.get("/gestion/messages/groupe").get_data(as_text=True)
    assert "Site (facultatif)" in form and "Centre de loisirs Prévert" in form
    prevert = _preview(agent_client, _form(demo, site="Centre de loisirs Prévert")).get_data(as_text=True)
    assert "1 foyer recevra ce message" in prevert, re.findall(r"(?:group-count|error-message).*", prevert)
    assert "« Accueil du soir » (Centre de loisirs Prévert)" in html.unescape(prevert)
    ferry = _preview(agent_client, _form(demo, site="École Jules Ferry")).get_data(as_text=True)
    assert "3 foyers recevront ce message" in ferry


def test_a_group_message_reaches_exactly_the_households_once_each_through_the_queue(
    demo: Portal, agent_client: FlaskClient
) -> None:
    sent = _send(agent_client, _form(demo), expected=3)
    assert sent.status_code == 302
    with demo.unit_of_work() as uow:
        group = uow.first(GroupMessage, subject=SUBJECT)
        assert group is not None and group.recipients == 3 and group.delivered_at is None
        assert uow.count(Message, subject=SUBJECT) == 0  # the worker posts it, not the web request
        agent = uow.first(User, email="agent@example.org")
        assert agent is not None
        record = uow.first(AuditRecord, action="group_message.sent", record_id=group.id)
        assert record is not None and record.actor_user_id == agent.id
    assert run_queued(demo) >= 1
    run_queued(demo)  # a second pass (a retry, the periodic job) posts nothing twice
    from famille_plugins.inbox.services.group import deliver

    assert deliver(demo) == 0
    names = _families(demo)
    with demo.unit_of_work() as uow:
        messages = uow.find(Message, subject=SUBJECT)
        reached = sorted(names[m.family_id] for m in messages)
        assert reached == ["BERNARD", "DUPONT", "MARTIN"]
        emails = {e.recipient for e in uow.find(OutgoingEmail) if e.kind == "message"}
        group = uow.first(GroupMessage, subject=SUBJECT)
        assert group is not None and group.delivered_at is not None
        assert uow.count(GroupMessageRecipient, group_message_id=group.id, message_id=None) == 0
    assert {"parent@example.org", "martin@example.org", "bernard@example.org"} <= emails
    assert "claire.petit@example.org" not in emails
    page = agent_client.get("/gestion/messages/groupe").get_data(as_text=True)
    assert SUBJECT in page and "déposé le" in page


def test_the_parents_read_it_in_their_inbox(demo: Portal, app: Flask, agent_client: FlaskClient) -> None:
    _send(agent_client, _form(demo), expected=3)
    run_queued(demo)
    for email, password, sees in (
        ("parent@example.org", "parent-demo-password", True),
        ("bernard@example.org", "bernard-demo-password", True),
    ):
        client = app.test_client()
        assert login(client, email, password).status_code == 302
        assert (SUBJECT in client.get("/messages/").get_data(as_text=True)) is sees


def test_a_changed_count_or_a_repeat_sends_nothing(demo: Portal, agent_client: FlaskClient) -> None:
    stale = _send(agent_client, _form(demo), expected=2)
    assert stale.status_code == 422 and "Le nombre de foyers a changé" in stale.get_data(as_text=True)
    assert _send(agent_client, _form(demo), expected=3).status_code == 302
    again = _send(agent_client, _form(demo), expected=3)  # a second tab, the form sent twice
    assert again.status_code == 422 and "vient déjà d'être envoyé" in html.unescape(again.get_data(as_text=True))
    with demo.unit_of_work() as uow:
        assert uow.count(GroupMessage) == 1


def test_bad_input_is_a_french_message_and_changes_nothing(demo: Portal, agent_client: FlaskClient) -> None:
    for changes, words in (
        ({"subject": ""}, "indiquez l'objet"),
        ({"start": "2026-13-01"}, "date invalide"),
        ({"end": "2026-11-01"}, "précède"),
        ({"kind": "ecole"}, "choisissez une école"),
        ({"service": "SCOLAIRE"}, "choisissez l'un de vos services"),
        ({"activity_id": ""}, "choisissez une activité"),
    ):
        answer = _preview(agent_client, _form(demo, **changes))
        assert answer.status_code == 422, changes
        assert words in html.unescape(answer.get_data(as_text=True)), changes
    assert _send(agent_client, _form(demo, kind="ecole", school="École inconnue"), expected=0).status_code == 422
    with demo.unit_of_work() as uow:
        assert uow.count(GroupMessage) == 0


def test_agents_without_a_mailbox_get_404_on_every_group_page_and_action(demo: Portal, app: Flask) -> None:
    client = agent_of_service(demo, app, "SPORT")
    token = csrf_token(client, "/")
    for url, method in (("/gestion/messages/groupe", "GET"), ("/gestion/messages/groupe", "POST"),
                        ("/gestion/messages/groupe/apercu", "POST"), ("/gestion/messages/groupe/envoyer", "POST")):
        data = {**_form(demo), "expected": 3, "csrf_token": token} if method == "POST" else None
        assert client.open(url, method=method, data=data).status_code == 404, (url, method)
    assert "Message groupé" not in client.get("/").get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.count(GroupMessage) == 0


def test_the_menu_offers_it_to_agents_with_a_mailbox(demo: Portal, agent_client: FlaskClient) -> None:
    page = agent_client.get("/").get_data(as_text=True)
    assert re.search(r'href="/gestion/messages/groupe"[^>]*>Message groupé<', page)


def _agent_actor(portal: Portal) -> Any:
    from famille_core.entities import Actor

    with portal.unit_of_work() as uow:
        agent = uow.first(User, email="agent@example.org")
        assert agent is not None
        return Actor.for_user(agent)


@pytest.mark.postgres
def test_two_tabs_sending_at_once_send_one_message(demo: Portal) -> None:
    """The same form sent from two tabs at the same instant: one group message, one refusal."""
    from famille_core.errors import ValidationFailed
    from famille_plugins.inbox.services.group import ACTIVITY, Audience, send

    actor = _agent_actor(demo)
    audience = Audience(kind=ACTIVITY, activity_id=_activity(demo, "SOIR"), start=THURSDAY, end=THURSDAY)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with demo.unit_of_work() as uow:
                send(demo, uow, actor, audience, "ENFANCE", SUBJECT, "Fermé jeudi.", 3)
                uow.commit()
            outcomes.append("sent")
        except ValidationFailed:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "sent"]
    with demo.unit_of_work() as uow:
        assert uow.count(GroupMessage) == 1


@pytest.mark.postgres
def test_two_workers_delivering_at_once_serve_each_household_once(demo: Portal, agent_client: FlaskClient) -> None:
    from famille_plugins.inbox.services.group import deliver

    _send(agent_client, _form(demo, activity_id=_activity(demo, "CANTINE")), expected=4)
    with demo.unit_of_work() as uow:
        group = uow.first(GroupMessage, subject=SUBJECT)
        assert group is not None
        group_id = group.id
    barrier = threading.Barrier(3)
    served: list[int] = []

    def worker() -> None:
        barrier.wait()
        served.append(deliver(demo, group_id))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(served) == 4
    with demo.unit_of_work() as uow:
        assert sorted(m.family_id for m in uow.find(Message, subject=SUBJECT)) == sorted(
            r.family_id for r in uow.find(GroupMessageRecipient, group_message_id=group_id)
        )
        assert uow.count(Message, subject=SUBJECT) == 4
