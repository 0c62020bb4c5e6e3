"""Webhooks (issue 16) with a real local HTTP receiver, the one of examples/webhook_receiver.py:
signed deliveries it verifies, a receiver down then up gets every event once and in order
(retried with backoff from the background queue), a slow receiver never slows a parent's save,
and the delivery log shows each attempt."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.clock import FixedClock
from famille_core.entities import Guardian, GuardianRole
from famille_core.jobs import enqueue
from famille_core.services import webhooks
from famille_plugins.profile.services.sections import section_specs
from famille_plugins.profile.web import record_values
from tests.api.conftest import make_token
from tests.conftest import csrf_token
from tests.jobs_helpers import run_queued

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    """The example's receiver, served in a thread on ``port``."""

    def __init__(self, example: ModuleType, port: int, delay: float = 0.0) -> None:
        self.events: list[dict[str, Any]] = []
        self.receiver = example.Receiver("", on_event=self.events.append, delay=delay)
        self.server = example.make_server(self.receiver, port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers(example: ModuleType) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        running.stop()


def _register(portal: Portal, client: FlaskClient, port: int, kinds: list[str]) -> dict[str, Any]:
    token = make_token(portal, "erp", ["events:read", "webhooks:manage"])
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook", "kinds": kinds}, headers=headers)
    assert response.status_code == 201, response.json
    return {**response.json, "headers": headers}


def _edit_phone(portal: Portal, parent: FlaskClient, phone: str) -> None:
    with portal.unit_of_work() as uow:
        guardian = uow.first(Guardian, role=GuardianRole.PRIMARY, email="parent@example.org")
        assert guardian is not None
    data = {**record_values(section_specs(portal, "responsable"), guardian), "phone_mobile": phone}
    data |= {"csrf_token": csrf_token(parent, "/compte/responsable"), "version": str(guardian.version)}
    assert parent.post("/compte/responsable", data=data).status_code == 302


def _run_worker(portal: Portal) -> None:
    """What ``famille worker`` does when the scheduler starts ``webhooks.deliver``."""
    enqueue(portal, "webhooks.deliver")
    run_queued(portal)


def test_signed_deliveries_are_verified_by_the_example_and_a_slow_receiver_slows_no_save(
    demo: Portal, client: FlaskClient, parent_client: FlaskClient, receivers: list[Running], example: ModuleType
) -> None:
    receiver = Running(example, _free_port(), delay=1.0)
    receivers.append(receiver)
    webhook = _register(demo, client, receiver.server.server_address[1], ["profile.changed"])
    receiver.receiver.secret = webhook["secret"]
    _edit_phone(demo, parent_client, "07 11 11 11 11")
    _edit_phone(demo, parent_client, "07 22 22 22 22")
    # The saves are done and nothing was sent while they ran: delivering is the worker's.
    assert receiver.events == []
    _run_worker(demo)
    phones = [e["changes"][0]["new"] for e in receiver.events if e["entity"] == "guardian"]
    assert phones == ["07 11 11 11 11", "07 22 22 22 22"]
    assert receiver.receiver.refused == 0
    assert {e["author"]["kind"] for e in receiver.events} == {"parent"}
    # A body changed on the way no longer matches its signature.
    body = b'{"id": 1}'
    header = webhooks.sign(webhook["secret"], int(time.time()), body)
    assert example.verify(webhook["secret"], header, body)
    assert not example.verify(webhook["secret"], header, b'{"id": 2}')
    assert not example.verify("whsec_another", header, body)


def test_a_receiver_down_then_up_gets_every_event_once_in_order(
    demo: Portal, client: FlaskClient, parent_client: FlaskClient, receivers: list[Running], example: ModuleType, clock: FixedClock
) -> None:
    port = _free_port()  # nothing listens there yet
    webhook = _register(demo, client, port, [])
    for phone in ("07 33 33 33 33", "07 44 44 44 44"):
        _edit_phone(demo, parent_client, phone)
    _run_worker(demo)
    log_path = f"/api/v1/webhook-deliveries?webhook_id={webhook['webhook']['id']}"
    attempts = client.get(log_path, headers=webhook["headers"]).json["items"]
    assert [(a["delivered"], a["status_code"]) for a in attempts] == [(False, None)]
    assert attempts[0]["error"]
    receiver = Running(example, port)
    receivers.append(receiver)
    receiver.receiver.secret = webhook["secret"]
    _run_worker(demo)  # too early: the webhook waits its backoff
    assert receiver.events == []
    clock.advance(timedelta(seconds=31))
    _run_worker(demo)
    _run_worker(demo)  # nothing left: nothing sent twice
    ids = [e["id"] for e in receiver.events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert [e["changes"][0]["new"] for e in receiver.events if e["entity"] == "guardian"] == ["07 33 33 33 33", "07 44 44 44 44"]
    listed = client.get("/api/v1/webhooks", headers=webhook["headers"]).json
    assert listed[0]["cursor"] == ids[-1] and listed[0]["failures"] == 0
    log = client.get(log_path, headers=webhook["headers"]).json
    assert log["total"] == len(ids) + 1
    assert [a["event_id"] for a in log["items"] if a["delivered"]] == ids[::-1]


def test_a_revoked_webhook_receives_nothing_more_and_only_its_client_can_revoke_it(
    demo: Portal, client: FlaskClient, parent_client: FlaskClient, receivers: list[Running], example: ModuleType
) -> None:
    receiver = Running(example, _free_port())
    receivers.append(receiver)
    webhook = _register(demo, client, receiver.server.server_address[1], ["profile.changed"])
    receiver.receiver.secret = webhook["secret"]
    webhook_id = webhook["webhook"]["id"]
    _edit_phone(demo, parent_client, "07 55 55 55 55")
    _run_worker(demo)
    assert len(receiver.events) == 1
    # Another ERP client cannot see nor stop it: the same 404 as an unknown webhook.
    other = {"Authorization": f"Bearer {make_token(demo, 'autre', ['webhooks:manage'])}"}
    for ref in (webhook_id, 999_999):
        refused = client.post("/api/v1/webhooks/revoke", json={"id": ref}, headers=other)
        assert refused.status_code == 404
    assert client.get("/api/v1/webhooks", headers=other).json == []
    revoked = client.post("/api/v1/webhooks/revoke", json={"id": webhook_id}, headers=webhook["headers"])
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    again = client.post("/api/v1/webhooks/revoke", json={"id": webhook_id}, headers=webhook["headers"])
    assert again.json["revoked_at"] == revoked.json["revoked_at"]  # revoking twice changes nothing
    _edit_phone(demo, parent_client, "07 66 66 66 66")
    _run_worker(demo)
    assert [e["changes"][0]["new"] for e in receiver.events] == ["07 55 55 55 55"]
    listed = client.get("/api/v1/webhooks", headers=webhook["headers"]).json
    assert [(w["id"], w["revoked_at"]) for w in listed] == [(webhook_id, revoked.json["revoked_at"])]
