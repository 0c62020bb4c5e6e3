"""Two agents deciding one change request at once (docs/security.md point 39), on PostgreSQL
with real threads: one decision wins, nothing is applied twice, the family gets one message and
the other agent reads a French conflict message.

The interleaving is forced: each agent, once it has read the request, waits for the other to
have read it too before writing. Without a lock both read "pending" and both win; with the lock
the second agent cannot read the request before the first one commits (its wait gives up).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import (
    Actor,
    AuthorizedPerson,
    BankDetails,
    ChangeRequest,
    Message,
    Role,
    User,
)
from famille_core.errors import Conflict
from famille_plugins.profile.services import changes, decisions
from tests.conftest import csrf_token, login
from tests.plugins.profile.conftest import child_id

pytestmark = pytest.mark.postgres

NEW_IBAN = "DE89370400440532013000"
BOTH_READ_WAIT = 3.0
"""Seconds an agent waits for the other to read the request too (gives up when it is locked out)."""


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"profile": {"validated_sections": ["banque", "autorisations"]}}}


@pytest.fixture
def both_read_first(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make each decider wait, after reading the request, until the other one has read it."""
    real = decisions.get_request
    both_read = threading.Barrier(2)
    seen = threading.local()

    def get_request(*args: Any, **kwargs: Any) -> ChangeRequest:
        request = real(*args, **kwargs)
        # A decider's first read, in the racing threads only (not the page rendered afterwards).
        if threading.current_thread() is not threading.main_thread() and not getattr(seen, "read", False):
            seen.read = True
            # A broken barrier: the other decider could not read it, it waits for our commit.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=BOTH_READ_WAIT)
        return request

    monkeypatch.setattr(decisions, "get_request", get_request)
    yield


def _parent(portal: Portal, email: str) -> Actor:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email=email)
        assert user is not None
        return Actor.for_user(user, authenticated_at=portal.clock.now())


def _agent(portal: Portal) -> Actor:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email="agent@example.org")
        assert user is not None and user.role is Role.AGENT
        return Actor.for_user(user, authenticated_at=portal.clock.now())


def _bank_request(portal: Portal) -> int:
    parent = _parent(portal, "parent@example.org")
    with portal.unit_of_work() as uow:
        outcome = changes.update_section(
            portal, uow, parent, "banque",
            {"holder": "Marie et Jean DUPONT", "iban": NEW_IBAN, "bic": "COBADEFFXXX",
             "mandate_reference": "RUM-2", "mandate_date": "2026-09-01"},
            str(uow.first(BankDetails, family_id=parent.family_id).version),  # type: ignore[union-attr]
        )
        uow.commit()
        assert outcome.request is not None and outcome.request.id is not None
        return outcome.request.id


def _person_request(portal: Portal) -> int:
    parent = _parent(portal, "parent@example.org")
    with portal.unit_of_work() as uow:
        outcome = changes.update_section(
            portal, uow, parent, "autorisations",
            {"last_name": "LEROY", "first_name": "Anne", "phone": "0611223344", "may_pick_up": "on"},
            "0", child_id=child_id(portal, "Lucas"),
        )
        uow.commit()
        assert outcome.request is not None and outcome.request.id is not None
        return outcome.request.id


def _race(*attempts: Callable[[], str]) -> list[str]:
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda a=a: outcomes.append(a())) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == len(attempts), "a decider hung"
    return outcomes


def _decide(portal: Portal, request_id: int, approve: bool) -> Callable[[], str]:
    agent = _agent(portal)

    def attempt() -> str:
        try:
            with portal.unit_of_work() as uow:
                decisions.decide(portal, uow, agent, request_id, approve=approve)
                uow.commit()
        except Conflict as lost:
            assert "déjà été traitée" in lost.message
            return "conflict"
        return "approved" if approve else "refused"

    return attempt


def _family_messages(portal: Portal) -> list[str]:
    with portal.unit_of_work() as uow:
        return [m.subject for m in uow.find(Message, is_system=True) if m.subject.startswith("Modification")]


def test_approve_against_refuse_one_decision_wins(demo: Portal, both_read_first: None) -> None:
    request_id = _bank_request(demo)
    outcomes = _race(_decide(demo, request_id, True), _decide(demo, request_id, False))
    assert sorted(outcomes) in (["approved", "conflict"], ["conflict", "refused"])
    with demo.unit_of_work() as uow:
        request = uow.get(ChangeRequest, request_id)
        bank = uow.first(BankDetails)
        assert request is not None and bank is not None
        # The stored state tells what happened: the IBAN is applied exactly when it says approved.
        assert request.state == ("approved" if "approved" in outcomes else "refused")
        assert (bank.iban == NEW_IBAN) == (request.state == "approved")
    assert len(_family_messages(demo)) == 1


def test_approve_against_approve_adds_one_person(demo: Portal, both_read_first: None) -> None:
    request_id = _person_request(demo)
    outcomes = _race(_decide(demo, request_id, True), _decide(demo, request_id, True))
    assert sorted(outcomes) == ["approved", "conflict"]
    with demo.unit_of_work() as uow:
        assert [p.last_name for p in uow.find(AuthorizedPerson) if p.last_name != "MOREAU"] == ["LEROY"]  # MOREAU: the demo's
    assert _family_messages(demo) == ["Modification acceptée : Autorisations"]


def test_the_losing_agent_reads_a_conflict_message_on_the_page(
    demo: Portal, app: Flask, both_read_first: None
) -> None:
    request_id = _bank_request(demo)
    path = f"/gestion/familles/demandes/{request_id}"
    clients: list[FlaskClient] = []
    for _ in range(2):
        client = app.test_client()
        assert login(client, "agent@example.org", "agent-demo-password").status_code == 302
        clients.append(client)
    tokens = [csrf_token(client, path) for client in clients]

    def post(client: FlaskClient, token: str, decision: str) -> Callable[[], str]:
        def attempt() -> str:
            response = client.post(path, data={"csrf_token": token, "decision": decision})
            page = response.get_data(as_text=True).replace("&#39;", "'")
            if response.status_code == 422:
                assert "déjà été traitée" in page and "n'a pas été enregistrée" in page
            return str(response.status_code)

        return attempt

    outcomes = _race(post(clients[0], tokens[0], "accepter"), post(clients[1], tokens[1], "refuser"))
    assert sorted(outcomes) == ["302", "422"]
    assert len(_family_messages(demo)) == 1

