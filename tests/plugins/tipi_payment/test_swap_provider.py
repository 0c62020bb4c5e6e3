"""A collectivity swaps its payment provider by configuration alone: with the example plugin
``desk_payment`` enabled and ``providers = ["guichet"]``, invoices are paid at the town-hall
desk; nothing of PayFiP is used although ``tipi_payment`` is enabled (examples/desk_payment).
The providers are set here with the former key ``[plugins.tipi_payment] providers``, still read
by billing (deprecated); tests/plugins/billing/test_desk_payment.py pays without
``tipi_payment`` at all."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from famille_core.settings import DEFAULT_PLUGINS
from tests.desk_helpers import signature
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Recorder,
    Simulator,
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
        "portal": {**settings_data["portal"], "plugins": [*DEFAULT_PLUGINS, "desk_payment"]},
        "plugins": {"tipi_payment": {"providers": ["guichet"]}, "desk_payment": {"secret": SECRET}},
    }


def test_invoice_is_paid_at_the_desk_instead_of_payfip(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Payer au guichet de la mairie" in page
    assert "Payer en ligne</button>" not in page

    response = start_payment(parent_client, invoice, method="guichet")
    assert response.status_code == 303
    (transaction,) = transactions(demo)
    assert transaction.provider == "guichet" and transaction.state is PaymentState.PENDING
    assert response.headers["Location"].startswith("http://127.0.0.1:5000/factures/paiement/")
    pending = parent_client.get(path_of(response.headers["Location"]), follow_redirects=True)
    assert "Paiement en cours de vérification" in pending.get_data(as_text=True)

    notify = f"/factures/paiement/{transaction.id}/notification"
    cash_register = app.test_client()
    # A forged desk answer (wrong signature) changes nothing.
    cash_register.post(notify, data={"montant": "8495", "recu": "R-1", "signature": "0" * 64})
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.OPEN
    signed = {
        "montant": "8495",
        "recu": "R-1",
        "signature": signature(SECRET, transaction.id or 0, "8495", "R-1"),
    }
    assert cash_register.post(notify, data=signed).status_code == 200
    assert cash_register.post(notify, data=signed).status_code == 200  # replayed: no effect

    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.PAID
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert recorder.payments == [(DUPONT_OPEN, "paid")] and len(recorder.notices) == 1
    assert simulator.app.soap_calls == []  # PayFiP never involved


def test_payfip_is_no_longer_offered(demo: Portal, parent_client: FlaskClient) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    response = start_payment(parent_client, invoice, method="payfip")
    assert response.status_code == 303
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Ce moyen de paiement n&#39;est pas proposé." in page
    assert transactions(demo) == []


@pytest.mark.parametrize("providers", [["payfip", "guichet"]])
def test_both_providers_can_be_offered(
    demo: Portal, parent_client: FlaskClient, providers: list[str]
) -> None:
    tables = {**demo.settings.plugins, "billing": {"providers": providers}}
    demo.settings = attrs.evolve(demo.settings, plugins=tables)
    demo.plugin_config["billing"] = attrs.evolve(
        demo.config_for("billing"), providers=tuple(providers)
    )
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert page.index("Payer en ligne") < page.index("Payer au guichet de la mairie")
