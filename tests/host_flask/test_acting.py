""""Agir pour la famille" (issue 15 point 2, docs/agents.md): an agent acts for the DUPONT
family through the parents' own pages and services; the family sees what the town did, the
audit names the agent, and agents without the role get 404."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import (
    Activity,
    AuditRecord,
    Child,
    Family,
    Message,
    Reservation,
    ReservationState,
    User,
)
from host_flask.access import FAMILIES, audience_of, open_to_acting
from tests.conftest import agent_of_service, csrf_token, login

TUESDAY = date(2026, 11, 17)
"""Past the J-2 10:00 deadline on Monday 16 November 09:00 (the tests' clock), still to come."""
FRIDAY = date(2026, 11, 27)
"""Still open for booking."""


@pytest.fixture
def settings_data(settings_data: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    services = getattr(request, "param", ["ENFANCE"])
    return {**settings_data, "portal": {**settings_data["portal"], "acting_services": services}}


def _ids(portal: Portal) -> dict[str, int]:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        emma = uow.first(Child, first_name="Emma", last_name="DUPONT")
        cantine = uow.first(Activity, code="CANTINE")
        agent = uow.first(User, email="agent@example.org")
        assert family and emma and cantine and agent
        assert family.id and emma.id and cantine.id and agent.id
        return {"family": family.id, "emma": emma.id, "cantine": cantine.id, "agent": agent.id}


def _start(client: FlaskClient, family_id: int) -> Any:
    token = csrf_token(client, f"/gestion/familles/{family_id}")
    return client.post(f"/gestion/familles/{family_id}/agir", data={"csrf_token": token})


def _book(client: FlaskClient, ids: dict[str, int], day: date, reason: str | None = None) -> Any:
    token = csrf_token(client, "/agenda/")
    data = {"csrf_token": token, "child_id": ids["emma"], "activity_id": ids["cantine"], "day": day.isoformat()}
    if reason is not None:
        data["override_reason"] = reason
    return client.post("/agenda/reserver", data=data)


def test_an_agent_acts_for_the_family_with_a_banner_on_every_page(demo: Portal, agent_client: FlaskClient) -> None:
    ids = _ids(demo)
    family_page = agent_client.get(f"/gestion/familles/{ids['family']}").get_data(as_text=True)
    assert "Agir pour la famille" in family_page
    answer = _start(agent_client, ids["family"])
    assert answer.status_code == 302 and answer.headers["Location"] in ("/messages/", "/agenda/", "/factures/")
    for path in ("/agenda/", "/factures/", "/messages/", "/", "/gestion/familles/"):
        page = agent_client.get(path)
        assert page.status_code == 200, path
        assert "Vous agissez pour la famille DUPONT" in page.get_data(as_text=True), path
    agenda = agent_client.get(f"/agenda/?enfant={ids['emma']}").get_data(as_text=True)
    assert "Emma" in agenda
    assert "Abonnement au calendrier" not in agenda  # a family's own secret link: not while acting
    assert "Abonnement au calendrier" not in agent_client.get("/agenda/foyer").get_data(as_text=True)
    # Bank and health data stay behind the agents' own pages.
    for path in ("/compte/", "/compte/banque", "/compte/enfants/"):
        assert agent_client.get(path).status_code == 404, path
    token = csrf_token(agent_client, "/")
    ended = agent_client.post("/gestion/agir/terminer", data={"csrf_token": token})
    assert ended.status_code == 302
    page = agent_client.get("/gestion/familles/").get_data(as_text=True)
    assert "Vous agissez pour" not in page
    assert agent_client.get("/agenda/").status_code == 404
    with demo.unit_of_work() as uow:
        actions = [r.action for r in uow.find(AuditRecord, actor_user_id=ids["agent"], family_id=ids["family"])]
    assert "acting.started" in actions and "acting.ended" in actions


def test_each_page_read_for_the_family_is_audited_and_logging_out_ends_acting(
    demo: Portal, agent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    _start(agent_client, ids["family"])
    for path in ("/agenda/", "/factures/", "/messages/"):
        assert agent_client.get(path).status_code == 200, path
    with demo.unit_of_work() as uow:
        viewed = [
            r.record_type
            for r in uow.find(AuditRecord, action="acting.viewed", actor_user_id=ids["agent"], family_id=ids["family"], order_by=("id",))
        ]
    assert viewed == ["calendar.index", "billing.index", "inbox.index"]
    agent_client.post("/deconnexion", data={"csrf_token": csrf_token(agent_client, "/gestion/familles/")})
    with demo.unit_of_work() as uow:
        ended = uow.find(AuditRecord, action="acting.ended", actor_user_id=ids["agent"], family_id=ids["family"])
    assert len(ended) == 1


def test_past_the_deadline_the_agent_books_with_a_required_reason_and_the_family_sees_the_town_did_it(
    demo: Portal, app: Flask, agent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    _start(agent_client, ids["family"])
    day_page = agent_client.get(f"/agenda/?enfant={ids['emma']}&jour={TUESDAY.isoformat()}").get_data(as_text=True)
    assert "Réserver hors délai" in day_page
    refused = _book(agent_client, ids, TUESDAY, reason="  ")
    assert refused.status_code == 422
    assert "indiquez le motif" in refused.get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.first(Reservation, child_id=ids["emma"], day=TUESDAY) is None
    done = _book(agent_client, ids, TUESDAY, reason="Appel de Mme DUPONT : garde imprévue")
    assert done.status_code == 302
    with demo.unit_of_work() as uow:
        booked = uow.first(Reservation, child_id=ids["emma"], day=TUESDAY)
        assert booked is not None and booked.state is ReservationState.ACCEPTED
        assert booked.created_by == ids["agent"] and booked.family_id == ids["family"]
        record = uow.first(AuditRecord, action="acting.reservation.booked", record_id=booked.id)
        assert record is not None and record.actor_user_id == ids["agent"]
        assert record.family_id == ids["family"] and record.reason == "Appel de Mme DUPONT : garde imprévue"
        notice = uow.first(Message, family_id=ids["family"], subject="Fait pour vous par la mairie")
        assert notice is not None and "Magnus" in notice.body and "hors délai" in notice.body
    # The parent sees it as done by the town: in the Agenda and in the inbox.
    parent = app.test_client()
    assert login(parent, "parent@example.org", "parent-demo-password").status_code == 302
    day = parent.get(f"/agenda/?enfant={ids['emma']}&jour={TUESDAY.isoformat()}").get_data(as_text=True)
    assert "fait par la mairie" in day and "Réserver hors délai" not in day
    inbox = parent.get("/messages/").get_data(as_text=True)
    assert "Fait pour vous par la mairie" in inbox


def test_a_parent_is_still_refused_past_the_deadline_even_with_a_reason(demo: Portal, parent_client: FlaskClient) -> None:
    ids = _ids(demo)
    refused = _book(parent_client, ids, TUESDAY, reason="s'il vous plaît")
    assert refused.status_code == 422
    assert "délai de réservation" in refused.get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.first(Reservation, child_id=ids["emma"], day=TUESDAY) is None


def test_every_action_for_the_family_is_audited_with_the_agents_name(demo: Portal, agent_client: FlaskClient) -> None:
    ids = _ids(demo)
    _start(agent_client, ids["family"])
    assert _book(agent_client, ids, FRIDAY).status_code == 302
    with demo.unit_of_work() as uow:
        reservation = uow.first(Reservation, child_id=ids["emma"], day=FRIDAY)
        assert reservation is not None
    token = csrf_token(agent_client, "/agenda/")
    cancelled = agent_client.post(
        "/agenda/annuler", data={"csrf_token": token, "reservation_id": reservation.id, "child_id": ids["emma"]}
    )
    assert cancelled.status_code == 302
    absence = agent_client.post(
        "/agenda/absence",
        data={"csrf_token": token, "child_id": ids["emma"], "start": FRIDAY.isoformat(), "end": FRIDAY.isoformat(),
              "reason": "MEDICAL", "activity_id": ids["cantine"]},
    )
    assert absence.status_code == 302, absence.get_data(as_text=True)
    sent = agent_client.post(
        "/messages/nouveau", data={"csrf_token": token, "subject": "Pour Emma", "body": "Demande faite au téléphone."}
    )
    assert sent.status_code == 302
    with demo.unit_of_work() as uow:
        records = uow.find(AuditRecord, family_id=ids["family"])
        message = uow.first(Message, subject="Pour Emma")
    actions = {r.action for r in records if r.actor_user_id == ids["agent"]}
    assert {"acting.started", "acting.reservation.booked", "acting.reservation.cancelled",
            "acting.absence.declared", "acting.message.sent"} <= actions
    assert message is not None and message.author_user_id == ids["agent"]
    assert message.author_label == "Magnus (mairie, pour la famille)"


def test_acting_pages_are_the_agenda_invoices_and_inbox_only(app: Flask) -> None:
    """No page showing or changing bank or health data, no payment, opens to an acting agent."""
    opened = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if audience_of(view) == FAMILIES and open_to_acting(view)
    }
    assert {"calendar.index", "calendar.reserve", "billing.index", "inbox.new"} <= opened
    assert {endpoint.split(".")[0] for endpoint in opened} == {"calendar", "billing", "inbox"}
    assert not {"billing.pay", "billing.check", "billing.result", "calendar.subscription"} & opened


def test_the_invoices_offer_no_payment_to_an_acting_agent(demo: Portal, agent_client: FlaskClient) -> None:
    _start(agent_client, _ids(demo)["family"])
    page = agent_client.get("/factures/").get_data(as_text=True)
    links = re.findall(r'href="(/factures/\d+)"', page)
    assert links
    detail = agent_client.get(links[0]).get_data(as_text=True)
    assert "Payer en ligne" not in detail


def test_agents_without_the_acting_service_get_404(
    demo: Portal, app: Flask
) -> None:
    """An agent of a service not in ``acting_services`` (a SCOLAIRE agent here)."""
    client = agent_of_service(demo, app, "SCOLAIRE")
    ids = _ids(demo)
    assert "Agir pour la famille" not in client.get(f"/gestion/familles/{ids['family']}").get_data(as_text=True)
    assert _start(client, ids["family"]).status_code == 404
    with client.session_transaction() as session:  # a forged or stale session changes nothing
        session["acting_family"] = ids["family"]
    assert client.get("/agenda/").status_code == 404
    assert _book(client, ids, FRIDAY).status_code == 404
    assert "Vous agissez pour" not in client.get("/").get_data(as_text=True)
    with demo.unit_of_work() as uow:
        assert uow.first(Reservation, child_id=ids["emma"], day=FRIDAY) is None


def test_acting_reaches_that_household_only(demo: Portal, agent_client: FlaskClient) -> None:
    """Acting for DUPONT, Léa (MARTIN and BERNARD) answers 404 as for the DUPONT parents."""
    ids = _ids(demo)
    with demo.unit_of_work() as uow:
        lea = uow.first(Child, first_name="Léa")
        assert lea is not None and lea.id is not None
    _start(agent_client, ids["family"])
    assert _book(agent_client, {**ids, "emma": lea.id}, FRIDAY).status_code == 404
    assert agent_client.get(f"/agenda/?enfant={lea.id}").status_code == 404
    with demo.unit_of_work() as uow:
        assert uow.first(Reservation, child_id=lea.id, day=FRIDAY) is None


def test_past_the_cancellation_deadline_the_agent_cancels_with_a_reason(
    demo: Portal, agent_client: FlaskClient, parent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas")
        assert lucas is not None
        booked = uow.first(Reservation, child_id=lucas.id, activity_id=ids["cantine"], state=ReservationState.ACCEPTED)
        assert booked is not None and booked.id is not None
        booked.day = TUESDAY  # a demo booking, moved past its cancellation deadline
        uow.commit()
    token = csrf_token(parent_client, "/agenda/")
    data = {"csrf_token": token, "reservation_id": booked.id, "child_id": lucas.id, "override_reason": "x"}
    assert parent_client.post("/agenda/annuler", data=data).status_code == 422  # parents: refused
    _start(agent_client, ids["family"])
    token = csrf_token(agent_client, "/agenda/")
    without = agent_client.post("/agenda/annuler", data={**data, "csrf_token": token, "override_reason": ""})
    assert without.status_code == 422
    done = agent_client.post("/agenda/annuler", data={**data, "csrf_token": token, "override_reason": "Enfant malade"})
    assert done.status_code == 302
    with demo.unit_of_work() as uow:
        cancelled = uow.get(Reservation, booked.id)
        assert cancelled is not None and cancelled.state is ReservationState.CANCELLED
        record = uow.first(AuditRecord, action="acting.reservation.cancelled", record_id=booked.id)
        assert record is not None and record.actor_user_id == ids["agent"] and record.reason == "Enfant malade"


def test_an_acting_agent_reads_the_familys_messages_without_marking_them_read(
    demo: Portal, agent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    with demo.unit_of_work() as uow:
        unread = uow.first(Message, family_id=ids["family"], read_at=None, direction="from_collectivity")
        assert unread is not None
    _start(agent_client, ids["family"])
    page = agent_client.get(f"/messages/{unread.id}")
    assert page.status_code == 200 and "Certificat médical de Lucas" in page.get_data(as_text=True)
    assert 'id="mark-read"' not in page.get_data(as_text=True)
    assert agent_client.post(f"/messages/{unread.id}/lu", data={"csrf_token": csrf_token(agent_client, "/"), "lu": "1"}).status_code == 404
    with demo.unit_of_work() as uow:
        assert uow.get(Message, unread.id).read_at is None  # type: ignore[union-attr]


def test_a_weekly_pattern_made_for_the_family_is_told_in_one_message(demo: Portal, agent_client: FlaskClient) -> None:
    ids = _ids(demo)
    _start(agent_client, ids["family"])
    token = csrf_token(agent_client, "/agenda/")
    answer = agent_client.post(
        "/agenda/semaine-type",
        data={"csrf_token": token, "child_id": ids["emma"], "activity_id": ids["cantine"], "weekdays": ["0", "3"],
              "start": "2026-11-23", "end": "2026-12-04"},
    )
    assert answer.status_code == 200
    with demo.unit_of_work() as uow:
        booked = uow.find(Reservation, child_id=ids["emma"], created_by=ids["agent"])
        notices = uow.find(Message, family_id=ids["family"], subject="Fait pour vous par la mairie")
        audited = uow.count(AuditRecord, action="acting.reservation.booked", actor_user_id=ids["agent"])
    assert len(booked) == 4 and audited == 4
    assert len(notices) == 1
    assert notices[0].body.count("Emma, « Cantine »") == 4


def test_an_acting_agent_neither_resumes_nor_checks_the_familys_payment(
    demo: Portal, agent_client: FlaskClient, parent_client: FlaskClient
) -> None:
    from famille_core.entities import Invoice, InvoiceStatus, PaymentTransaction

    with demo.unit_of_work() as uow:
        unpaid = [i for i in uow.find(Invoice, family_id=_ids(demo)["family"]) if i.status is not InvoiceStatus.PAID]
        assert unpaid
        invoice_id = unpaid[0].id
        now = demo.clock.now()
        uow.add(PaymentTransaction(invoice_id=invoice_id, family_id=unpaid[0].family_id, provider="payfip",
                                   amount=unpaid[0].balance, created_at=now, updated_at=now))
        uow.commit()
    assert "Vérifier maintenant" in parent_client.get(f"/factures/{invoice_id}").get_data(as_text=True)
    _start(agent_client, _ids(demo)["family"])
    page = agent_client.get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "Un paiement en ligne" in page
    assert "Vérifier maintenant" not in page and "Reprendre ce paiement" not in page


@pytest.mark.parametrize("settings_data", [["ENFANCE", "SCOLAIRE"]], indirect=True)
def test_an_agent_of_another_service_acts_but_overrides_no_deadline_of_the_canteen(
    demo: Portal, app: Flask
) -> None:
    """A SCOLAIRE agent may act (SCOLAIRE is in acting_services) but the canteen is ENFANCE's:
    past its deadline the agent is refused like the parents, reason or not."""
    client = agent_of_service(demo, app, "SCOLAIRE")
    ids = _ids(demo)
    assert _start(client, ids["family"]).status_code == 302
    day = client.get(f"/agenda/?enfant={ids['emma']}&jour={TUESDAY.isoformat()}").get_data(as_text=True)
    assert "Réserver hors délai" not in day
    refused = _book(client, ids, TUESDAY, reason="Appel de la famille")
    assert refused.status_code == 422 and "délai de réservation" in refused.get_data(as_text=True)
    assert _book(client, ids, FRIDAY).status_code == 302  # within the deadline: as the parents
