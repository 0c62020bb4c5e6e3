"""The billing plugin's operations of the JSON API (``/api/v1``): the invoices (read, and
written by the ERP) and the online payments, present only when the plugin is enabled."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import frozen

from famille_core.convert import shape
from famille_core.entities import Invoice, InvoiceLine, PaymentTransaction, Scope
from famille_core.errors import NotFound
from famille_core.services import sync
from famille_core.uow import In
from host_flask import toolkit as tk


@frozen(kw_only=True)
class InvoiceLineOut:
    """An invoice line."""

    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@frozen(kw_only=True)
class InvoiceOut:
    """An invoice with its lines."""

    id: int
    external_id: str | None
    family_id: int
    number: str
    reference: str
    issue_date: date
    due_date: date
    total: Decimal
    paid_amount: Decimal
    balance: Decimal
    status: str
    lines: list[InvoiceLineOut]


@frozen(kw_only=True)
class PaymentOut:
    """An online payment transaction."""

    id: int
    invoice_id: int
    family_id: int
    provider: str
    amount: Decimal
    state: str
    created_at: datetime
    updated_at: datetime


@tk.api_operation(
    "GET",
    "/invoices",
    summary="Factures avec leurs lignes (paginé)",
    scope=Scope.INVOICES_READ,
    response=tk.page_of(InvoiceOut),
    params=tk.PAGE_PARAMS + tk.FAMILY_FILTER,
)
def list_invoices() -> Any:
    uow = tk.request_uow()
    invoices, page = tk.paginate(uow, Invoice, **tk.query_filters(family_id="int"))
    lines = (
        uow.find(InvoiceLine, invoice_id=In([i.id for i in invoices]), order_by=("id",))
        if invoices
        else []
    )
    converter = tk.get_portal().converter
    by_invoice: dict[int | None, list[InvoiceLineOut]] = {}
    for line in lines:
        by_invoice.setdefault(line.invoice_id, []).append(shape(converter, line, InvoiceLineOut))
    items = [
        shape(converter, invoice, InvoiceOut, lines=by_invoice.get(invoice.id, []))
        for invoice in invoices
    ]
    return tk.page_of(InvoiceOut)(items=items, **page)


@tk.api_operation(
    "POST",
    "/invoices",
    summary="Crée ou met à jour une facture (clé : external_id)",
    scope=Scope.INVOICES_WRITE,
    request_body=sync.InvoiceRecord,
    response=tk.UpsertResult,
)
def upsert_invoice() -> Any:
    invoice, outcome = sync.upsert_invoice(tk.request_uow(), tk.body_as(sync.InvoiceRecord))
    tk.request_uow().flush()
    return tk.UpsertResult(id=invoice.id or 0, outcome=outcome.value)


@tk.api_operation(
    "GET",
    "/payments",
    summary="Paiements en ligne (paginé)",
    scope=Scope.PAYMENTS_READ,
    response=tk.page_of(PaymentOut),
    params=tk.PAGE_PARAMS + tk.FAMILY_FILTER,
)
def list_payments() -> Any:
    return tk.api_page(PaymentOut, PaymentTransaction, **tk.query_filters(family_id="int"))


@frozen(kw_only=True)
class CertificateOut:
    """An attestation de frais de garde: what a household paid in a year for a child's care."""

    family_id: int
    child_id: int
    child_name: str
    year: int
    total: Decimal
    lines: int
    pdf_path: str
    """The PDF, for the household in the portal (``/factures/attestations/…``)."""


@frozen(kw_only=True)
class CertificatesOut:
    """The attestations of one year."""

    year: int
    items: list[CertificateOut]


YEAR = tk.QueryParam(
    name="year",
    schema={"type": "integer", "minimum": 1900, "maximum": 2199},
    description="Année civile des paiements.",
    required=True,
)


def _invalid(name: str, message: str) -> tk.ApiError:
    return tk.ApiError(
        400,
        "parametre-invalide",
        "Paramètre invalide",
        f"« {name} » : {message}",
        [tk.FieldError(field=name, code="invalid", message=message)],
    )


def _year() -> int:
    """The required ``year`` of the query string (1900–2199), else a 400 problem."""
    year = tk.query_filters(year="int").get("year")
    if year is None or not 1900 <= year <= 2199:
        raise _invalid("year", "une année entre 1900 et 2199.")
    return int(year)


@tk.api_operation(
    "GET",
    "/childcare-certificates",
    summary="Attestations de frais de garde d'une année (enfants de moins de 6 ans)",
    scope=Scope.INVOICES_READ,
    response=CertificatesOut,
    params=(YEAR, *tk.FAMILY_FILTER),
)
def list_certificates() -> Any:
    from famille_plugins.billing.services.certificates import certificates

    year = _year()
    family_id = tk.query_filters(family_id="int").get("family_id")
    found = certificates(
        tk.get_portal(), tk.request_uow(), year, [family_id] if family_id is not None else None
    )
    return CertificatesOut(
        year=year,
        items=[
            CertificateOut(
                family_id=c.family_id,
                child_id=c.child_id,
                child_name=c.child_name,
                year=c.year,
                total=c.total,
                lines=len(c.lines),
                pdf_path=f"/factures/attestations/{c.year}/{c.child_id}.pdf",
            )
            for c in found
        ],
    )


@frozen(kw_only=True)
class CertificatePdfOut:
    """One attestation de frais de garde as a tagged PDF."""

    filename: str
    media_type: str
    content_base64: str


CHILD = tk.QueryParam(
    name="child_id",
    schema={"type": "integer", "minimum": 1, "maximum": tk.MAX_ID},
    description="L'enfant.",
    required=True,
)


@tk.api_operation(
    "GET",
    "/childcare-certificates/pdf",
    summary="Une attestation de frais de garde en PDF balisé (base64)",
    scope=Scope.INVOICES_READ,
    response=CertificatePdfOut,
    params=(YEAR, *tk.FAMILY_FILTER, CHILD),
    problems=((404, "Aucune attestation pour cet enfant, cette famille et cette année"),),
)
def certificate_pdf() -> Any:
    from famille_plugins.billing.services.certificates import certificates
    from famille_plugins.billing.services.documents_web import certificate_pdf as render

    year = _year()
    family_id, child_id = (
        tk.query_filters(**{name: "int"}).get(name) for name in ("family_id", "child_id")
    )
    if family_id is None or child_id is None:
        raise _invalid("family_id" if family_id is None else "child_id", "Paramètre obligatoire.")
    portal = tk.get_portal()
    found = [
        c
        for c in certificates(portal, tk.request_uow(), year, [family_id])
        if c.child_id == child_id
    ]
    if not found:
        raise NotFound("Attestation introuvable.")
    document = render(portal, found[0])
    return CertificatePdfOut(
        filename=document.filename,
        media_type=document.media_type,
        content_base64=base64.b64encode(document.content).decode(),
    )


OPERATIONS = (list_invoices, upsert_invoice, list_payments, list_certificates, certificate_pdf)
