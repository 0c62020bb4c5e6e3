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
    """One attempt to pay an invoice, stored **before** the payer is redirected: the same for
    every provider. What a provider keeps of its own (PayFiP's ``refdet``, ``exer``, ``mode``,
    ``mel``, ``numcli``; an answer's authorisation number…) is in ``provider_data``."""

    id: int | None = None
    invoice_id: int
    family_id: int
    provider: str
    amount: Decimal
    state: PaymentState = PaymentState.PENDING
    provider_ref: str | None = None
    """The provider's identifier (PayFiP ``idOp``); unique per provider."""
    created_at: datetime
    updated_at: datetime
    provider_data: dict[str, Any] = field(factory=dict)

    @property
    def awaits_late_answer(self) -> bool:
        """Expired only because no result came in time: the provider may still report it paid.

        The one exception to "a final state never changes" (docs/payment.md, "Late answers"):
        such a transaction may still move ``expired → paid`` when the provider says so, until it
        gives a final answer (``late_outcome``).
        """
        return (
            self.state is PaymentState.EXPIRED
            and self.provider_data.get("reason") == EXPIRED_WITHOUT_RESULT
            and "late_outcome" not in self.provider_data
        )


EXPIRED_WITHOUT_RESULT = "no_result_in_time"
"""``provider_data["reason"]`` of a transaction expired because its result stayed unknown."""


class RefundState(StrEnum):
    """Where the refund of an overpayment stands."""

    TO_REFUND = "to_refund"
    """À rembourser."""
    REFUNDED = "refunded"
    """Remboursé (an agent says so, after the régie paid the family back)."""


@define(slots=False, eq=False, kw_only=True)
class Overpayment:
    """Money received on an invoice beyond what it still asked (docs/security.md point 33).

    Two attempts both paid (a lost notification, then a new attempt), or a payment confirmed
    after its invoice was settled otherwise: the invoice is credited only up to its total, and
    the surplus of that transaction is recorded here for the régie to refund.
    """

    id: int | None = None
    invoice_id: int
    family_id: int
    transaction_id: int
    """The payment that brought the surplus (one overpayment per transaction at most)."""
    amount: Decimal
    created_at: datetime
    state: RefundState = RefundState.TO_REFUND
    refunded_at: datetime | None = None
    refunded_by: int | None = None
    """The agent's user id who marked it refunded."""
