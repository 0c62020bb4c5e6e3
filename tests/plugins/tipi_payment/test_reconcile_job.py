"""The payment reconciliation runs from the worker on its schedule (every five minutes by
default): the scheduler's own computation picks the job, the queue runs it, and a payment left
on PayFiP's page past its window is asked about and expired — nobody types
``famille reconcile-payments``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import PaymentState
from famille_core.jobs import due_jobs
from famille_plugins.tipi_payment.services import soap
from tests.jobs_helpers import run_queued
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Simulator,
    invoice_by_number,
    start_payment,
    transactions,
)


def test_the_worker_expires_a_payment_past_its_window_at_the_next_five_minutes(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))  # left on PayFiP's page
    asked: list[str] = []
    transport = soap.TRANSPORT

    def counting(url: str, body: bytes, timeout: float) -> bytes:
        asked.append(url)
        return transport(url, body, timeout)

    monkeypatch.setattr(soap, "TRANSPORT", counting)
    clock.advance(timedelta(minutes=121))  # 11:01 in Paris: past the two hours' window
    minute = clock.now().replace(second=0, microsecond=0)
    assert "payments.reconcile" not in due_jobs(demo, minute.replace(minute=3))
    run_queued(demo, minute.replace(minute=3))
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]  # not its time yet
    assert "payments.reconcile" in due_jobs(demo, minute.replace(minute=5))
    run_queued(demo, minute.replace(minute=5))
    assert [t.state for t in transactions(demo)] == [PaymentState.EXPIRED]
    assert len(asked) == 1  # PayFiP was asked, once, before the payment expired


def test_a_town_sets_its_own_reconciliation_schedule(demo: Portal) -> None:
    import attrs

    schedule = "*/2 8-18 * * *"
    tables = {**demo.settings.plugins, "billing": {"reconcile_schedule": schedule}}
    demo.settings = attrs.evolve(demo.settings, plugins=tables)
    demo.plugin_config["billing"] = attrs.evolve(
        demo.plugin_config["billing"], reconcile_schedule=schedule
    )
    at = demo.clock.now().replace(hour=9, minute=2)
    assert "payments.reconcile" in due_jobs(demo, at)
    assert "payments.reconcile" not in due_jobs(demo, at.replace(hour=20))
