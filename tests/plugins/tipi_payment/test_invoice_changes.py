"""The ERP cannot change an invoice while one of its payments is pending (issue 12, finding 13:
an invoice lowered to 10,00 € during a payment ended "total 10,00, paid 80,00"). The API answers
409 with a French reason, the CSV import reports the line; nothing changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Invoice, InvoiceLine, InvoiceStatus, PaymentState
from famille_core.services.imports import import_file
from tests.api.conftest import make_token
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Simulator,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)

EXTERNAL_ID = "FAC-DUPONT-10"
REASON = "Un paiement en ligne de cette facture est en cours"


@pytest.fixture
def erp_invoice(demo: Portal) -> dict[str, Any]:
    """The DUPONT invoice as the ERP sends it (the demo's invoice, given an ERP id)."""
    with demo.unit_of_work() as uow:
        invoice = uow.first(Invoice, number=DUPONT_OPEN)
        assert invoice is not None
        invoice.external_id = EXTERNAL_ID
        lines = uow.find(InvoiceLine, invoice_id=invoice.id, order_by=("id",))
        uow.commit()
        return {
            "external_id": EXTERNAL_ID,
            "family": "ERP-694504900001",
            "number": invoice.number,
            "reference": invoice.reference,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "label": invoice.label,
            "lines": [
                {
                    "label": line.label,
                    "quantity": str(line.quantity),
                    "unit_price": str(line.unit_price),
                }
                for line in lines
            ],
        }


def _snapshot(demo: Portal) -> tuple[Any, ...]:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    with demo.unit_of_work() as uow:
        lines = [(line.label, line.amount) for line in uow.find(InvoiceLine, invoice_id=invoice.id)]
    return invoice.total, invoice.paid_amount, invoice.version, lines


LOWERED = [{"label": "Cantine — Lucas", "quantity": "1", "unit_price": "10.00"}]


def test_api_refuses_to_change_an_invoice_being_paid(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    erp_invoice: dict[str, Any],
) -> None:
    api = app.test_client()
    auth = {"Authorization": f"Bearer {make_token(demo, 'erp', ['invoices:write'])}"}
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    location = start_payment(parent_client, invoice).headers["Location"]
    before = _snapshot(demo)

    response = api.post("/api/v1/invoices", json={**erp_invoice, "lines": LOWERED}, headers=auth)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert REASON in response.json["detail"]
    assert _snapshot(demo) == before
    # The same invoice sent again unchanged is fine (an ERP re-sends everything nightly).
    same = api.post("/api/v1/invoices", json=erp_invoice, headers=auth)
    assert same.status_code == 200 and same.json["outcome"] == "unchanged"

    # The payer pays the 84,95 € PayFiP was given: the invoice is paid, not "paid 84,95 of 10".
    parent_client.get(path_of(simulator.choose(location, "payer")))
    paid = invoice_by_number(demo, DUPONT_OPEN)
    assert (paid.total, paid.paid_amount, paid.status) == (
        Decimal("84.95"),
        Decimal("84.95"),
        InvoiceStatus.PAID,
    )
    # Once settled, the usual rule applies: a paid invoice takes a credit note, not new lines.
    after = api.post("/api/v1/invoices", json={**erp_invoice, "lines": LOWERED}, headers=auth)
    assert after.status_code == 422 and "avoir" in after.json["errors"][0]["message"]


def test_api_changes_the_invoice_once_the_payment_failed(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    erp_invoice: dict[str, Any],
) -> None:
    auth = {"Authorization": f"Bearer {make_token(demo, 'erp', ['invoices:write'])}"}
    location = start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN)).headers[
        "Location"
    ]
    parent_client.get(path_of(simulator.choose(location, "annuler")))
    assert [t.state for t in transactions(demo)] == [PaymentState.CANCELLED]
    response = app.test_client().post(
        "/api/v1/invoices", json={**erp_invoice, "lines": LOWERED}, headers=auth
    )
    assert response.status_code == 200 and response.json["outcome"] == "updated"
    assert invoice_by_number(demo, DUPONT_OPEN).total == Decimal("10.00")


def test_csv_import_reports_the_line_and_changes_nothing(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    erp_invoice: dict[str, Any],
    tmp_path: Path,
) -> None:
    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))
    before = _snapshot(demo)
    head = "external_id,family,number,reference,issue_date,due_date,label"
    fields = ",".join(
        erp_invoice[k]
        for k in ("external_id", "family", "number", "reference", "issue_date", "due_date")
    )
    path = tmp_path / "factures.csv"
    path.write_text(
        f"{head},line.label,line.quantity,line.unit_price\n"
        f"{fields},{erp_invoice['label']},Cantine — Lucas,1,10.00\n",
        encoding="utf-8",
    )
    report = import_file(demo, "invoices", path)
    assert report.counts["rejected"] == 1 and report.counts["updated"] == 0
    (error,) = report.errors
    assert error.line == 2 and REASON in error.message
    assert _snapshot(demo) == before
