"""What billing gives out of its records: its sections of "Mes données", its ``famille export``
kind for the ERP (``payments``) and the payments' events in the domain feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from famille_core.clock import PARIS
from famille_core.entities import Invoice, InvoiceLine, Overpayment, PaymentTransaction
from famille_core.hooks.results import EventPolicy, ExportKind, FeedEvent
from famille_core.services.export import records
from famille_core.uow import Between, In, UnitOfWork


def family_sections(uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """The household's invoices, their lines, its payments and overpayments."""
    invoices = uow.find(Invoice, family_id=family_id, order_by=("issue_date", "id"))
    lines = uow.find(InvoiceLine, invoice_id=In([i.id for i in invoices])) if invoices else []
    return {
        "invoices": records(invoices),
        "invoice_lines": records(lines),
        "payments": records(
            uow.find(PaymentTransaction, family_id=family_id, order_by=("created_at", "id"))
        ),
        "overpayments": records(
            uow.find(Overpayment, family_id=family_id, order_by=("created_at", "id"))
        ),
    }


def payment_rows(uow: UnitOfWork, start: date, end: date) -> Iterator[dict[str, Any]]:
    """``famille export payments``: the payments whose state changed in the period, by date
    (a constant number of queries)."""
    low = datetime.combine(start, time.min, tzinfo=PARIS)
    high = datetime.combine(end, time.max, tzinfo=PARIS)
    payments = uow.find(
        PaymentTransaction, updated_at=Between(low, high), order_by=("updated_at", "id")
    )
    invoices = (
        {i.id: i for i in uow.find(Invoice, id=In({p.invoice_id for p in payments}))}
        if payments
        else {}
    )
    for payment in payments:
        invoice = invoices[payment.invoice_id]
        yield {
            "id": payment.id,
            "invoice": invoice.external_id or invoice.number,
            "reference": invoice.reference,
            "provider": payment.provider,
            "amount": str(payment.amount),
            "state": payment.state.value,
            "updated_at": payment.updated_at.isoformat(),
        }


EXPORT_KINDS = (ExportKind(name="payments", description="Paiements par date.", rows=payment_rows),)


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


def _payment(payment: PaymentTransaction, changed: Any) -> FeedEvent | None:
    if not changed("state"):
        return None
    state = _state(payment.state)
    kind = "payment.made" if state == "paid" else f"payment.{state}"
    return FeedEvent(kind=kind, payload={"invoice_id": payment.invoice_id, "state": state})


EVENT_POLICIES = (EventPolicy(entity_type=PaymentTransaction, entity="payment", changed=_payment),)
"""``payment.made`` (paid) and ``payment.<state>`` for the other states a payment reaches."""
