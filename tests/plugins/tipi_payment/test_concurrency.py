"""Crediting is idempotent under concurrency: twenty identical notifications at once, or a
notification racing the payer's return, credit the invoice exactly once (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Recorder,
    Simulator,
    answer_urls,
    invoice_by_number,
    start_payment,
    transactions,
)


def _paid_without_notification(
    demo: Portal, client: FlaskClient, sim: Simulator
) -> tuple[str, str, str]:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    location = start_payment(client, invoice).headers["Location"]
    sim.choose(location, "payer", lose_notification=True)
    (transaction,) = transactions(demo)
    back, notify = answer_urls(sim, transaction)
    return back, notify, transaction.provider_ref or ""


def _notification(app: Flask, notify: str, idop: str) -> Callable[[], int]:
    """PayFiP's notification POST, from its own client."""
    return lambda: app.test_client().post(notify, data={"idOp": idop}).status_code


def _in_parallel(calls: list[Callable[[], int]]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # surfaced by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _assert_credited_once(demo: Portal, recorder: Recorder) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.paid_amount == invoice.total
    assert invoice.status is InvoiceStatus.PAID
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert len(recorder.notices) == 1
    assert len(recorder.payments) == 1


@pytest.mark.postgres
def test_twenty_parallel_notifications_credit_exactly_once(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    _back, notify, idop = _paid_without_notification(demo, parent_client, simulator)
    statuses = _in_parallel([_notification(app, notify, idop)] * 20)
    assert statuses == [200] * 20
    _assert_credited_once(demo, recorder)


@pytest.mark.postgres
def test_notification_racing_browser_return_credits_once(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    back, notify, idop = _paid_without_notification(demo, parent_client, simulator)

    def browser() -> int:
        return parent_client.get(back).status_code

    assert _in_parallel([_notification(app, notify, idop), browser] * 3) == [200, 303] * 3
    _assert_credited_once(demo, recorder)
    page = parent_client.get(back, follow_redirects=True).get_data(as_text=True)
    assert "Paiement accepté" in page


def test_notification_then_browser_return_credits_once(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    """The same race, serialised (runs on SQLite too): whichever comes second changes nothing."""
    back, notify, idop = _paid_without_notification(demo, parent_client, simulator)
    assert parent_client.post(notify, data={"idOp": idop}).status_code == 200
    assert "Paiement accepté" in parent_client.get(back, follow_redirects=True).get_data(
        as_text=True
    )
    _assert_credited_once(demo, recorder)
