"""Invoices (factures) as a household sees them: its list, one invoice, the ways to pay it."""

from __future__ import annotations

from collections.abc import Sequence

from famille_core.entities import (
    Actor,
    Family,
    Invoice,
    InvoiceLine,
    PaymentState,
    PaymentTransaction,
)
from famille_core.errors import NotFound
from famille_core.hooks.results import PaymentMethod
from famille_core.portal import Portal
from famille_core.services.access import owned, require_family
from famille_core.services.payments.starting import is_payable
from famille_core.uow import In, UnitOfWork
from famille_plugins.billing.settings import settings_of

__all__ = [
    "family_invoices",
    "invoice_family",
    "invoice_for",
    "invoice_lines",
    "invoices_with_pending_payment",
    "is_payable",
    "offered_methods",
    "payment_transactions",
    "transaction_for",
    "why_not_online",
]


def family_invoices(uow: UnitOfWork, actor: Actor) -> list[Invoice]:
    """The actor's household invoices, newest first (one query)."""
    family_id = require_family(actor)
    return uow.find(Invoice, family_id=family_id, order_by=("-issue_date", "-id"))


def invoice_for(uow: UnitOfWork, actor: Actor, invoice_id: int) -> Invoice:
    """The invoice when ``actor``'s household owns it (agents see every invoice); else 404."""
    return owned(uow.get(Invoice, invoice_id), actor, "Facture")


def invoice_lines(uow: UnitOfWork, invoice: Invoice) -> list[InvoiceLine]:
    """The lines of ``invoice``, in order."""
    return uow.find(InvoiceLine, invoice_id=invoice.id, order_by=("id",))


def invoice_family(uow: UnitOfWork, invoice: Invoice) -> Family:
    """The household billed by ``invoice``."""
    family = uow.get(Family, invoice.family_id)
    if family is None:
        raise NotFound("Famille introuvable.")
    return family


def _configured_methods(portal: Portal, invoice: Invoice, actor: Actor) -> list[PaymentMethod]:
    """What the enabled plugins answer for the configured providers, in the order of
    ``[plugins.billing] providers`` (refused ones included). None for an agent acting for the
    family: the family pays, with its own means (docs/agents.md)."""
    if not is_payable(invoice) or actor.is_acting:
        return []
    answered = {
        method.code: method
        for methods in portal.hook.payment_methods(portal=portal, invoice=invoice, actor=actor)
        for method in methods
    }
    return [answered[code] for code in settings_of(portal).providers if code in answered]


def offered_methods(portal: Portal, invoice: Invoice, actor: Actor) -> list[PaymentMethod]:
    """The configured providers that an enabled plugin offers for ``invoice``, in the order of
    ``[plugins.billing] providers``."""
    return [m for m in _configured_methods(portal, invoice, actor) if m.refusal is None]


def why_not_online(portal: Portal, invoice: Invoice, actor: Actor) -> str | None:
    """Why an unpaid invoice cannot be paid online (a provider's refusal, e.g. 10,000 € or more
    at PayFiP), in French; else ``None``."""
    refusals = [m.refusal for m in _configured_methods(portal, invoice, actor) if m.refusal]
    return refusals[0] if refusals else None


def payment_transactions(uow: UnitOfWork, invoice: Invoice) -> list[PaymentTransaction]:
    """The payment attempts of ``invoice``, newest first."""
    return uow.find(PaymentTransaction, invoice_id=invoice.id, order_by=("-created_at", "-id"))


def transaction_for(uow: UnitOfWork, actor: Actor, transaction_id: int) -> PaymentTransaction:
    """A payment attempt of the actor's household; else 404."""
    return owned(uow.get(PaymentTransaction, transaction_id), actor, "Paiement")


def invoices_with_pending_payment(uow: UnitOfWork, invoices: Sequence[Invoice]) -> set[int]:
    """Ids of the invoices among ``invoices`` with a payment waiting for its result (one query)."""
    ids = [i.id for i in invoices if i.id is not None]
    if not ids:
        return set()
    return {
        t.invoice_id
        for t in uow.find(PaymentTransaction, invoice_id=In(ids), state=PaymentState.PENDING)
    }
