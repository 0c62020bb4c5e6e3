"""A collectivity that bills without online payment: ``billing`` and the example provider
``desk_payment`` enabled, ``tipi_payment`` **not** enabled, ``[plugins.billing] providers =
["guichet"]`` — an invoice is paid at the town-hall desk end to end (examples/desk_payment),
through the same pages, answer routes and money rules as a PayFiP payment."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from tests.conftest import csrf_token
from tests.desk_helpers import signature
from tests.plugins.billing.conftest import (
    DUPONT_OPEN,
    Recorder,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)

pytest.importorskip("famille_desk_payment", reason="make install installs examples/desk_payment")
SECRET = "shared-with-the-cash-register"


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings_data,
        "portal": {
            **settings_data["portal"],
            "plugins": ["profile", "inbox", "calendar", "billing", "desk_payment"],
        },
        "plugins": {"billing": {"providers": ["guichet"]}, "desk_payment": {"secret": SECRET}},
    }


def test_an_invoice_is_paid_at_the_desk_without_tipi_payment(
    demo: Portal, app: Flask, parent_client: FlaskClient, recorder: Recorder
) -> None:
    assert "tipi_payment" not in {name for name, _ in demo.pm.list_name_plugin()}
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Payer au guichet de la mairie" in page
    assert "Payer en ligne</button>" not in page

    response = start_payment(parent_client, invoice, method="guichet")
    assert response.status_code == 303
    (transaction,) = transactions(demo)
    assert transaction.provider == "guichet" and transaction.state is PaymentState.PENDING
    assert transaction.provider_ref == f"GUICHET-{transaction.id}"
    location = response.headers["Location"]
    assert location == f"http://127.0.0.1:5000/factures/paiement/{transaction.id}/retour"
    pending = parent_client.get(path_of(location), follow_redirects=True).get_data(as_text=True)
    assert "Paiement en cours de vérification" in pending
    # A second « Payer » while the desk has not answered: one payment in flight per invoice.
    again = start_payment(parent_client, invoice, method="guichet")
    assert again.status_code == 303 and len(transactions(demo)) == 1

    cash_register = app.test_client()  # no session, no CSRF token: the signature is the proof
    notify = f"/factures/paiement/{transaction.id}/notification"
    assert transaction.id is not None
    forged = {"montant": "8495", "recu": "R-1", "signature": "0" * 64}
    assert cash_register.post(notify, data=forged).status_code == 200
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.OPEN
    cheaper = {"montant": "100", "recu": "R-1", "signature": signature(SECRET, transaction.id, "100", "R-1")}
    cash_register.post(notify, data=cheaper)
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.OPEN
    signed = {"montant": "8495", "recu": "R-1", "signature": signature(SECRET, transaction.id, "8495", "R-1")}
    assert cash_register.post(notify, data=signed).status_code == 200
    assert cash_register.post(notify, data=signed).status_code == 200  # replayed: no effect

    paid = invoice_by_number(demo, DUPONT_OPEN)
    assert paid.status is InvoiceStatus.PAID and paid.balance == 0
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert transactions(demo)[0].provider_data["numauto"] == "R-1"
    assert recorder.payments == [(DUPONT_OPEN, "paid")] and len(recorder.notices) == 1
    assert "Paiement reçu" in recorder.notices[0].subject
    result = parent_client.get(f"/factures/paiements/{transaction.id}").get_data(as_text=True)
    assert "Paiement accepté" in result and "payée" in result
    listed = parent_client.get("/factures/").get_data(as_text=True)
    assert DUPONT_OPEN in listed


def test_payfip_is_not_offered_without_tipi_payment(demo: Portal, parent_client: FlaskClient) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    response = start_payment(parent_client, invoice, method="payfip")
    assert response.status_code == 303
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Ce moyen de paiement n&#39;est pas proposé." in page
    assert transactions(demo) == []
    token = csrf_token(parent_client, f"/factures/{invoice.id}")
    assert token  # the page still works: the invoice can be paid at the desk
