"""« Payer une facture sans compte » (docs/payment.md): a payer who has no account — a
grandparent, a new family, a parent who lost the password, a town's kiosk — types the invoice's
reference and, as a second factor of knowledge, its amount or the family number.

* an unknown reference, a wrong second factor and an invoice with nothing left to pay get the
  same answer (:func:`find_invoice` returns ``None``), so references cannot be enumerated and
  nothing says which was wrong; the page shows only the amount, the due date and the number;
* the payment then goes through the **same** core services as a logged-in one
  (:func:`famille_core.services.payments.starting.start_payment`: one payment in flight per
  invoice, the pending transaction stored first, verified idempotent crediting, the receipt in
  the household's inbox), for an actor that reaches only that invoice's household;
* the throttling (per client address and per reference) is the web page's, with the shared
  attempt limiter (docs/security.md point 3).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from attrs import frozen

from famille_core.entities import Actor, Family, Invoice, PaymentState, PaymentTransaction, Role
from famille_core.errors import NotFound
from famille_core.hooks.results import PaymentMethod, PaymentRedirect
from famille_core.portal import Portal
from famille_core.services.payments import starting
from famille_core.services.payments.starting import is_payable
from famille_core.uow import UnitOfWork
from famille_plugins.billing.services.invoices import offered_methods
from famille_plugins.billing.services.payments import expiry

EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_REFERENCE_CHARS = 40
"""An invoice's reference is at most this long (the column's size)."""


@frozen(kw_only=True)
class PayableInvoice:
    """What the page may show of an invoice found by reference: nothing about the household."""

    id: int
    number: str
    due_date: date
    amount: Decimal
    numcli: str


def normalise_reference(typed: str) -> str:
    """The reference as invoices store it (upper case, no surrounding spaces)."""
    return typed.strip().upper()


def _amount(typed: str) -> Decimal | None:
    cleaned = typed.replace("€", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", cleaned):
        return None
    try:
        return Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern above excludes it
        return None


def _second_factor_matches(uow: UnitOfWork, invoice: Invoice, typed: str) -> bool:
    """The amount printed on the invoice (its total) or still due, or the family number."""
    amount = _amount(typed)
    if amount is not None and amount in (invoice.total, invoice.balance):
        return True
    family = uow.get(Family, invoice.family_id)
    return family is not None and typed.strip().upper() == family.family_number.strip().upper()


def find_invoice(
    portal: Portal, uow: UnitOfWork, reference: str, second_factor: str
) -> PayableInvoice | None:
    """The invoice with this reference when the second factor matches and something is left
    to pay; else ``None`` — the same for every reason."""
    typed = normalise_reference(reference)
    if not typed or not second_factor.strip():
        return None
    invoice = uow.first(Invoice, reference=typed)
    if invoice is None or invoice.id is None:
        return None
    if not _second_factor_matches(uow, invoice, second_factor):
        return None
    return _payable(portal, invoice)


def _payable(portal: Portal, invoice: Invoice | None) -> PayableInvoice | None:
    if invoice is None or invoice.id is None or not is_payable(invoice):
        return None
    return PayableInvoice(
        id=invoice.id,
        number=invoice.number,
        due_date=invoice.due_date,
        amount=invoice.balance,
        numcli=portal.settings.regie(invoice.regie_code).numcli,
    )


def payer_for(invoice: Invoice) -> Actor:
    """The actor of a payer without an account: reaches that invoice's household only (no
    user, no other household, never an agent's reach)."""
    return Actor(
        user_id=None,
        role=Role.PARENT,
        family_id=invoice.family_id,
        display_name="Payeur sans compte",
    )


def payable_again(portal: Portal, uow: UnitOfWork, invoice_id: int) -> PayableInvoice | None:
    """The invoice found earlier in this browser, as it stands now (``None`` once paid)."""
    return _payable(portal, uow.get(Invoice, invoice_id))


def methods(portal: Portal, uow: UnitOfWork, invoice_id: int) -> list[PaymentMethod]:
    """The ways to pay the invoice (the configured providers, as logged in)."""
    invoice = uow.get(Invoice, invoice_id)
    if invoice is None:
        return []
    return offered_methods(portal, invoice, payer_for(invoice))


def start_payment(
    portal: Portal,
    invoice_id: int,
    provider: str,
    payer_email: str,
    urls: starting.UrlBuilder,
) -> PaymentRedirect:
    """Start paying the invoice found by reference, through the core's one door
    (:func:`famille_core.services.payments.starting.start_payment`).

    :raises NotFound: no such invoice.
    :raises PaymentInFlight: another payment of it may still be paid (by anyone); nothing stored.
    :raises ValidationFailed: nothing left to pay, a field the provider refuses; nothing stored.
    :raises PaymentUnavailable: the provider did not answer.
    """
    with portal.unit_of_work() as uow:
        invoice = uow.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("Facture introuvable.")
    actor = payer_for(invoice)

    def offered(locked: Invoice) -> set[str]:
        return {method.code for method in offered_methods(portal, locked, actor)}

    return starting.start_payment(
        portal,
        actor,
        invoice_id,
        provider,
        urls,
        offered=offered,
        expiry=expiry(portal),
        payer_email=payer_email,
    )


@frozen(kw_only=True)
class Receipt:
    """What the receipt page shows: the state from the database, the invoice's number."""

    state: PaymentState
    amount: Decimal
    number: str
    invoice_paid: bool
    awaits_late_answer: bool


def receipt(uow: UnitOfWork, transaction_id: int) -> Receipt:
    """The receipt of a payment made without an account.

    :raises NotFound: no such payment, or one made from an account.
    """
    transaction = uow.get(PaymentTransaction, transaction_id)
    if transaction is None or not transaction.provider_data.get("without_account"):
        raise NotFound("Paiement introuvable.")
    invoice = uow.get(Invoice, transaction.invoice_id)
    assert invoice is not None
    return Receipt(
        state=transaction.state,
        amount=transaction.amount,
        number=invoice.number,
        invoice_paid=not is_payable(invoice),
        awaits_late_answer=transaction.awaits_late_answer,
    )
