"""Invoices (factures) and online payment transactions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from attrs import define, field, frozen


@frozen(kw_only=True)
class Regie:
    """The municipal cash office holding the PayFiP contract.

    ``numcli`` is the "Identifiant collectivité" (6 digits, leading zeros kept: ``021289``).
    """

    code: str
    name: str
    numcli: str


class InvoiceStatus(StrEnum):
    """Where an invoice stands."""

    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


@define(slots=False, eq=False, kw_only=True)
class InvoiceLine:
    """One line of an invoice: ``quantity × unit_price = amount``, exact."""

    id: int | None = None
    invoice_id: int | None = None
    label: str
    quantity: Decimal = Decimal("1")
    unit_price: Decimal
    amount: Decimal
    child_id: int | None = None


@define(slots=False, eq=False, kw_only=True)
class Invoice:
    """A facture. ``reference`` is the "N° de référence" a payer types at PayFiP."""

    id: int | None = None
    family_id: int
    number: str
    reference: str
    regie_code: str = "default"
    issue_date: date
    due_date: date
    total: Decimal
    paid_amount: Decimal = Decimal("0.00")
    status: InvoiceStatus = InvoiceStatus.OPEN
    label: str = ""
    external_id: str | None = None
    version: int = 1

    @property
    def balance(self) -> Decimal:
        """Reste à payer."""
        return self.total - self.paid_amount


class PaymentState(StrEnum):
    """Payment state machine: ``pending → paid | refused | cancelled | expired``; the rest is final."""

    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """Terminal states never change."""
        return self is not PaymentState.PENDING


@define(slots=False, eq=False, kw_only=True)
class PaymentTransaction:
    """One attempt to pay an invoice online, stored **before** the payer is redirected."""

    id: int | None = None
    invoice_id: int
    family_id: int
    provider: str
    amount: Decimal
    state: PaymentState = PaymentState.PENDING
    provider_ref: str | None = None
    """The provider's identifier (PayFiP ``idOp``); unique per provider."""
    refdet: str = ""
    exer: str = ""
    mode: str = ""
    secret_hash: str = ""
    created_at: datetime
    updated_at: datetime
    provider_data: dict[str, Any] = field(factory=dict)
