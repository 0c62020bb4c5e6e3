"""Factures: the family's list, an invoice as in the user guide, its tagged PDF, and invoices
coming from the ERP."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pypdf
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Invoice
from famille_core.services.sync import InvoiceLineRecord, InvoiceRecord, upsert_invoice
from tests.plugins.billing.conftest import DUPONT_OPEN, MARTIN_OPEN, invoice_by_number


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def erp_invoice(
    portal: Portal, number: str, *, label: str, lines: list[InvoiceLineRecord]
) -> Invoice:
    """An invoice of the DUPONT family, as the ERP sends it (core import service)."""
    with portal.unit_of_work() as uow:
        invoice, _ = upsert_invoice(
            uow,
            InvoiceRecord(
                external_id=f"ERP-F-{number}",
                family="ERP-694504900001",
                number=number,
                reference=f"2026-CA-11-{number[-4:]}",
                issue_date=date(2026, 11, 2),
                due_date=date(2026, 11, 30),
                label=label,
                lines=lines,
            ),
        )
        uow.commit()
    return invoice


def test_family_sees_its_invoices_with_guide_columns(
    demo: Portal, parent_client: FlaskClient
) -> None:
    page = parent_client.get("/factures/")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    for column in ("N°", "Du", "À régler avant", "Montant", "Reste à payer", "Statut"):
        assert column in text
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert f"{DUPONT_OPEN} {invoice.issue_date:%d/%m/%Y} {invoice.due_date:%d/%m/%Y} 84,95" in text
    assert "à régler" in text and "payée" in text  # 99996883 is paid in the demo
    assert MARTIN_OPEN not in text  # another household's invoice


def test_invoice_page_shows_family_number_collectivity_identifier_and_reference(
    demo: Portal, parent_client: FlaskClient
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    text = _text(parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True))
    assert "Famille n° 694504900001" in text
    assert "Identifiant collectivité 021289" in text
    assert f"N° de référence {invoice.reference}" in text
    assert "Cantine — Lucas 17 4,15 € 70,55 €" in text
    assert "Reste à payer 84,95 €" in text
    assert "Payer en ligne" in text


def test_another_familys_invoice_answers_404_and_cannot_be_paid(
    demo: Portal, parent_client: FlaskClient
) -> None:
    other = invoice_by_number(demo, MARTIN_OPEN)
    assert parent_client.get(f"/factures/{other.id}").status_code == 404
    assert parent_client.get(f"/factures/{other.id}/pdf").status_code == 404
    assert parent_client.get("/factures/999999").status_code == 404


def test_paid_invoice_offers_no_online_payment(demo: Portal, parent_client: FlaskClient) -> None:
    paid = invoice_by_number(demo, "99996883")
    text = _text(parent_client.get(f"/factures/{paid.id}").get_data(as_text=True))
    assert "Statut : payée" in text
    assert "Payer en ligne" not in text


def test_pdf_is_tagged_and_holds_number_due_date_and_reference(
    demo: Portal, parent_client: FlaskClient
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    response = parent_client.get(f"/factures/{invoice.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="facture-{DUPONT_OPEN}.pdf"' in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert DUPONT_OPEN in text
    assert invoice.due_date.strftime("%d/%m/%Y") in text
    assert invoice.reference in text
    assert "021289" in text and "694504900001" in text
    assert "Payer une facture sans compte" in text  # the second way to pay (issue 18)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])  # tagged PDF
    assert "/StructTreeRoot" in root
    assert root.get("/Lang") == "fr"


def test_render_invoice_works_without_flask_and_escapes_labels(demo: Portal) -> None:
    invoice = erp_invoice(
        demo,
        "99997000",
        label="<script>alert(1)</script> {{7*7}}",
        lines=[
            InvoiceLineRecord(label="Étude <b>", unit_price=Decimal("2.35"), quantity=Decimal("3"))
        ],
    )
    document = demo.hook.render_invoice(portal=demo, invoice=invoice, format="html")
    html = document.content.decode()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "{{7*7}}" in html  # shown as typed, never evaluated
    assert "7,05" in html  # 3 × 2,35 exactly
    assert demo.hook.render_invoice(portal=demo, invoice=invoice, format="odt") is None


def test_invoice_imported_from_erp_appears_and_can_be_paid(
    demo: Portal, parent_client: FlaskClient
) -> None:
    erp_invoice(
        demo,
        "99997001",
        label="Cantine — novembre",
        lines=[
            InvoiceLineRecord(label="Cantine", unit_price=Decimal("4.15"), quantity=Decimal("17"))
        ],
    )
    text = _text(parent_client.get("/factures/").get_data(as_text=True))
    assert "99997001 02/11/2026 30/11/2026 70,55 € 70,55 € à régler" in text


def test_another_familys_payment_page_answers_404(
    demo: Portal, app: Any, parent_client: FlaskClient
) -> None:
    from famille_core.entities import PaymentTransaction
    from tests.conftest import login

    invoice = invoice_by_number(demo, DUPONT_OPEN)
    with demo.unit_of_work() as uow:
        now = demo.clock.now()
        transaction = PaymentTransaction(
            invoice_id=invoice.id or 0,
            family_id=invoice.family_id,
            provider="payfip",
            amount=invoice.balance,
            created_at=now,
            updated_at=now,
        )
        uow.add(transaction)
        uow.commit()
    assert parent_client.get(f"/factures/paiements/{transaction.id}").status_code == 200
    martin = app.test_client()
    login(martin, "martin@example.org", "martin-demo-password")
    assert martin.get(f"/factures/paiements/{transaction.id}").status_code == 404
    assert martin.get(f"/factures/{invoice.id}").status_code == 404
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', martin.get("/factures/").get_data(as_text=True)
    )
    assert token
    paying = martin.post(
        f"/factures/{invoice.id}/payer", data={"method": "payfip", "csrf_token": token.group(1)}
    )
    assert paying.status_code == 404


def test_agents_have_no_family_invoice_pages(demo: Portal, agent_client: FlaskClient) -> None:
    assert agent_client.get("/factures/").status_code == 404


def test_invoice_of_10000_euros_or_more_cannot_be_paid_online(
    demo: Portal, parent_client: FlaskClient
) -> None:
    invoice = erp_invoice(
        demo,
        "99997002",
        label="Séjour d'été",
        lines=[InvoiceLineRecord(label="Séjour", unit_price=Decimal("10000.00"))],
    )
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    limit = "Le paiement en ligne est limité aux montants inférieurs à 10 000 € : réglez cette facture auprès de la régie."
    assert limit in page
    assert "Payer en ligne" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    parent_client.post(
        f"/factures/{invoice.id}/payer", data={"method": "payfip", "csrf_token": token.group(1)}
    )
    with demo.unit_of_work() as uow:
        from famille_core.entities import PaymentTransaction

        assert uow.count(PaymentTransaction) == 0


def test_home_page_says_what_is_left_to_pay(demo: Portal, parent_client: FlaskClient) -> None:
    text = _text(parent_client.get("/").get_data(as_text=True))
    assert "Factures 1 facture à régler : 84,95 €. Voir mes factures" in text


def test_invoices_imported_as_csv_by_the_erp_are_listed_with_exact_totals(
    demo: Portal, parent_client: FlaskClient
) -> None:
    from famille_core.services.imports import import_rows, read_rows

    csv_text = (
        "external_id,family,number,reference,issue_date,due_date,label,line.label,line.unit_price,line.quantity\n"
        "ERP-CSV-1,ERP-694504900001,99998001,2026-CA-11-0201,2026-11-03,2026-11-30,Cantine,Cantine — Lucas,4.15,17\n"
        "ERP-CSV-1,ERP-694504900001,99998001,2026-CA-11-0201,2026-11-03,2026-11-30,Cantine,Étude — Lucas,0.10,3\n"
    )
    with demo.unit_of_work() as uow:
        report = import_rows(demo, uow, "invoices", read_rows("invoices", csv_text, "csv"))
        uow.commit()
    assert report.errors == []
    text = _text(parent_client.get("/factures/").get_data(as_text=True))
    assert "99998001 03/11/2026 30/11/2026 70,85 € 70,85 € à régler" in text  # 70.55 + 0.30, exact
