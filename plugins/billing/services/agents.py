"""What agents do about payments (docs/payment.md, "For agents"): refund overpayments
(*Trop-perçus*) and confirm or reject payments that could not be verified (*Paiements à
vérifier*). Each decision is checked here (agents only), audited, and told to the household."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from attrs import frozen

from famille_core import notify_family
from famille_core.entities import (
    Actor,
    Family,
    Invoice,
    Overpayment,
    PaymentState,
    PaymentTransaction,
    RefundState,
)
from famille_core.errors import Conflict, NotFound
from famille_core.portal import Portal
from famille_core.services.access import require_agent
from famille_core.services.audit import audit
from famille_core.services.payments import notices
from famille_core.services.payments.states import finish, needs_agent
from famille_core.uow import Gte, In, UnitOfWork

RECENT = timedelta(days=30)
"""How far back the pages list refunds done and payments confirmed late."""
LATE_CLAIMS = timedelta(days=90)
"""How far back an expired transaction's claim still waits for an agent."""


@frozen(kw_only=True)
class Row:
    """One line of an agents' list: the record, with its invoice and household."""

    item: Any
    invoice: Invoice
    family: Family
    transaction: PaymentTransaction


def _rows(
    uow: UnitOfWork, items: Sequence[Any], transactions: dict[int | None, PaymentTransaction]
) -> list[Row]:
    """Rows for ``items`` (overpayments or transactions), in three queries whatever their number."""
    invoice_ids = {item.invoice_id for item in items}
    invoices = {i.id: i for i in uow.find(Invoice, id=In(invoice_ids))} if items else {}
    family_ids = {item.family_id for item in items}
    families = {f.id: f for f in uow.find(Family, id=In(family_ids))} if items else {}
    return [
        Row(
            item=item,
            invoice=invoices[item.invoice_id],
            family=families[item.family_id],
            transaction=transactions[
                item.transaction_id if isinstance(item, Overpayment) else item.id
            ],
        )
        for item in items
    ]


def overpayments(portal: Portal, uow: UnitOfWork, actor: Actor) -> tuple[list[Row], list[Row]]:
    """*Trop-perçus*: those to refund (oldest first), then those refunded lately."""
    require_agent(actor)
    since = portal.clock.now() - RECENT
    to_refund = uow.find(Overpayment, state=RefundState.TO_REFUND, order_by=("created_at", "id"))
    refunded = uow.find(
        Overpayment,
        state=RefundState.REFUNDED,
        refunded_at=Gte(since),
        order_by=("-refunded_at", "-id"),
    )
    items = [*to_refund, *refunded]
    ids = {o.transaction_id for o in items}
    transactions = {t.id: t for t in uow.find(PaymentTransaction, id=In(ids))} if ids else {}
    rows = _rows(uow, items, transactions)
    return rows[: len(to_refund)], rows[len(to_refund) :]


def mark_refunded(portal: Portal, uow: UnitOfWork, actor: Actor, overpayment_id: int) -> None:
    """An agent says the régie paid the surplus back: audited, and the household is told.

    :raises Conflict: already marked refunded (by another agent, or a second click).
    """
    require_agent(actor)
    uow.lock(f"overpayment:{overpayment_id}")
    overpayment = uow.get(Overpayment, overpayment_id, for_update=True)
    if overpayment is None:
        raise NotFound("Trop-perçu introuvable.")
    if overpayment.state is RefundState.REFUNDED:
        raise Conflict("Ce trop-perçu est déjà marqué remboursé : rien n'a été modifié.")
    overpayment.state = RefundState.REFUNDED
    overpayment.refunded_at = portal.clock.now()
    overpayment.refunded_by = actor.user_id
    invoice = uow.get(Invoice, overpayment.invoice_id)
    assert invoice is not None
    audit(
        portal, uow, actor, "overpayment_refunded", "overpayment", overpayment_id,
        overpayment.family_id,
    )  # fmt: skip
    notify_family(portal, uow, overpayment.family_id, *notices.refunded(invoice, overpayment))


def _waiting(portal: Portal, uow: UnitOfWork) -> list[PaymentTransaction]:
    """The transactions an agent must check, oldest first."""
    pending = uow.find(PaymentTransaction, state=PaymentState.PENDING, order_by=("id",))
    expired = uow.find(
        PaymentTransaction,
        state=PaymentState.EXPIRED,
        updated_at=Gte(portal.clock.now() - LATE_CLAIMS),
        order_by=("id",),
    )
    return [t for t in [*pending, *expired] if needs_agent(t)]


def counts(portal: Portal, uow: UnitOfWork, actor: Actor) -> tuple[int, int]:
    """How many overpayments to refund and payments to check (the agents' home panel)."""
    require_agent(actor)
    to_refund = uow.count(Overpayment, state=RefundState.TO_REFUND)
    return to_refund, len(_waiting(portal, uow))


def to_check(portal: Portal, uow: UnitOfWork, actor: Actor) -> tuple[list[Row], list[Row]]:
    """*Paiements à vérifier*: answers an agent must check (oldest first), then, for
    information, the payments the provider confirmed after their expiry lately."""
    require_agent(actor)
    since = portal.clock.now() - RECENT
    waiting = _waiting(portal, uow)
    late = [
        t
        for t in uow.find(
            PaymentTransaction, state=PaymentState.PAID, updated_at=Gte(since), order_by=("-id",)
        )
        if t.provider_data.get("late_outcome") == PaymentState.PAID.value
    ]
    rows = _rows(uow, [*waiting, *late], {t.id: t for t in [*waiting, *late]})
    return rows[: len(waiting)], rows[len(waiting) :]


def decide(
    portal: Portal, uow: UnitOfWork, actor: Actor, transaction_id: int, *, confirm: bool
) -> PaymentState:
    """An agent checked the régie's statement: the payment is there (``confirm``: paid, the
    invoice credited, a surplus becomes an overpayment) or not (refused). Audited.

    :raises Conflict: already decided, or settled by the provider meanwhile.
    """
    require_agent(actor)
    uow.lock(f"payment-transaction:{transaction_id}")  # the state machine's lock
    transaction = uow.get(PaymentTransaction, transaction_id, for_update=True)
    if transaction is None:
        raise NotFound("Paiement introuvable.")
    if not needs_agent(transaction):
        raise Conflict("Ce paiement a déjà été traité : rien n'a été modifié.")
    decision: dict[str, Any] = {
        "review_decision": "confirmed" if confirm else "rejected",
        "reviewed_by": actor.user_id,
        "reviewed_at": portal.clock.now().isoformat(),
    }
    if confirm:
        claim = transaction.provider_data.get("review") or {}
        state = PaymentState.PAID
        finish(portal, uow, transaction, state, {**decision, "numauto": claim.get("numauto", "")})
    else:
        state = PaymentState.REFUSED
        if transaction.state is PaymentState.PENDING:
            finish(portal, uow, transaction, state, decision)
        else:  # expired without a result: the late claim is closed, the state stays
            late = {"late_outcome": state.value}
            transaction.provider_data = {**transaction.provider_data, **decision, **late}
            state = transaction.state
        invoice = uow.get(Invoice, transaction.invoice_id)
        assert invoice is not None
        notify_family(portal, uow, transaction.family_id, *notices.rejected(invoice, transaction))
    audit(
        portal, uow, actor, f"payment_{decision['review_decision']}", "payment_transaction",
        transaction_id, transaction.family_id,
    )  # fmt: skip
    return state
