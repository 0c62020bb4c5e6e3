"""Money rules of online payments that hold for every provider (docs/security.md points 18 and
33): one payment in flight per invoice, an invoice never credited beyond its total, and the
surplus of a payment kept as an :class:`Overpayment` for the régie to refund.

:mod:`.states` drives the state machine with them; the ERP synchronisation
(:mod:`famille_core.services.sync`) uses :func:`refuse_change_while_paying`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from famille_core.entities import (
    Invoice,
    InvoiceStatus,
    Overpayment,
    PaymentState,
    PaymentTransaction,
)
from famille_core.errors import Conflict
from famille_core.uow import UnitOfWork

IN_FLIGHT = timedelta(minutes=15)
"""How long a payment just started may still be paid without the provider being asked (an
``idOp`` lives 15 minutes at PayFiP): a second start is refused at once during that time."""


class PaymentInProgress(Conflict):
    """A payment of the invoice may still be paid: nothing else may start or change it."""

    code = "payment_in_progress"


CHANGE_REFUSED = (
    "Un paiement en ligne de cette facture est en cours : elle ne peut pas être modifiée avant "
    "son résultat. Réessayez plus tard (rien n'a été modifié)."
)


def lock_invoice(uow: UnitOfWork, invoice_id: int) -> Invoice | None:
    """Serialise what decides about an invoice's payments: a named lock (every database), then
    the invoice's row (``SELECT … FOR UPDATE`` on PostgreSQL), until the end of ``uow``."""
    uow.lock(f"invoice-payments:{invoice_id}")
    return uow.get(Invoice, invoice_id, for_update=True)


def pending_transaction(uow: UnitOfWork, invoice_id: int) -> PaymentTransaction | None:
    """The invoice's payment waiting for its result, if any (at most one: a unique index)."""
    return uow.first(
        PaymentTransaction, invoice_id=invoice_id, state=PaymentState.PENDING, order_by=("-id",)
    )


def refuse_change_while_paying(uow: UnitOfWork, invoice: Invoice) -> None:
    """Refuse to change ``invoice`` while one of its payments is pending: the payer is paying
    the amount the portal sent to the provider (issue: "total 10,00, paid 80,00").

    Takes the invoice's row lock (not the named lock: an ERP import touches thousands of
    invoices in one transaction), which a payment start also takes. The invoice read before
    stays as it was: if a payment credited it meanwhile, its version check turns the ERP's
    change into a :class:`Conflict` at the flush.

    :raises PaymentInProgress: a payment is pending; nothing was changed.
    """
    assert invoice.id is not None
    uow.find(Invoice, id=invoice.id, for_update=True)
    if pending_transaction(uow, invoice.id) is not None:
        raise PaymentInProgress(CHANGE_REFUSED)


def amount_owed(invoice: Invoice) -> Decimal:
    """What the invoice still asks: its balance while open, else nothing."""
    if invoice.status is not InvoiceStatus.OPEN:
        return Decimal("0.00")
    return max(invoice.balance, Decimal("0.00"))


def credit(
    uow: UnitOfWork, invoice: Invoice, transaction: PaymentTransaction, now: datetime
) -> Overpayment | None:
    """Credit ``invoice`` with a paid ``transaction``, never beyond what it still asks.

    ``paid_amount`` never exceeds ``total`` (so the rest to pay is never negative and matches what
    the régie can reconcile); the surplus, if any, becomes an :class:`Overpayment` to refund.
    The caller holds the invoice's row lock.
    """
    assert invoice.id is not None and transaction.id is not None
    credited = min(transaction.amount, amount_owed(invoice))
    invoice.paid_amount = invoice.paid_amount + credited
    if invoice.status is InvoiceStatus.OPEN and invoice.balance <= 0:
        invoice.status = InvoiceStatus.PAID
    surplus = transaction.amount - credited
    if surplus <= 0:
        return None
    overpayment = Overpayment(
        invoice_id=invoice.id,
        family_id=transaction.family_id,
        transaction_id=transaction.id,
        amount=surplus,
        created_at=now,
    )
    uow.add(overpayment)
    return overpayment
