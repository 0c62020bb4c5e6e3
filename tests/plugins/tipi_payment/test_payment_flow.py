"""The PayFiP web-service flow end to end, in-process: "Payer en ligne" → PayFiP page →
notification and return → the invoice is "payée", with a receipt and ``on_payment``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Recorder,
    Simulator,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)


def test_parent_pays_invoice_through_payfip_and_sees_it_paid(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Payer en ligne" in page

    response = start_payment(parent_client, invoice)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("https://www.payfip.gouv.fr/tpa/paiementws.web?idop=")
    # Stored before the redirect, pending, with the idOp of the answer.
    (pending,) = transactions(demo)
    assert pending.state is PaymentState.PENDING
    assert pending.provider == "payfip" and location.endswith(pending.provider_ref or "-")
    assert pending.amount == Decimal("84.95") and pending.provider_data["refdet"].isalnum()

    back = simulator.choose(location, "payer")
    result = parent_client.get(path_of(back), follow_redirects=True)
    body = result.get_data(as_text=True)
    assert "Paiement accepté" in body
    assert "payée" in body

    paid = invoice_by_number(demo, DUPONT_OPEN)
    assert paid.status is InvoiceStatus.PAID and paid.balance == 0
    (settled,) = transactions(demo)
    assert settled.state is PaymentState.PAID and settled.provider_data["numauto"]
    assert [n.subject for n in recorder.notices] == [f"Paiement reçu — facture n° {DUPONT_OPEN}"]
    assert "84,95" in recorder.notices[0].body
    assert recorder.payments == [(DUPONT_OPEN, "paid")]
    listing = parent_client.get("/factures/").get_data(as_text=True)
    assert "payée" in listing


@pytest.mark.parametrize(
    ("choice", "state", "title"),
    [
        ("refuser", PaymentState.REFUSED, "Paiement refusé"),
        ("annuler", PaymentState.CANCELLED, "Paiement abandonné"),
    ],
)
def test_refused_or_cancelled_payment_leaves_invoice_to_pay(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    recorder: Recorder,
    choice: str,
    state: PaymentState,
    title: str,
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    back = simulator.choose(start_payment(parent_client, invoice).headers["Location"], choice)
    body = parent_client.get(path_of(back), follow_redirects=True).get_data(as_text=True)
    assert title in body
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.OPEN
    assert [t.state for t in transactions(demo)] == [state]
    assert recorder.notices == []
    assert recorder.payments == [(DUPONT_OPEN, state.value)]
