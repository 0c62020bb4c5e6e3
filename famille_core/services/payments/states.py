"""The payment transaction's state machine: a provider's answer, verified by the provider
plugin, moves a transaction once; the invoice is credited up to its total (docs/payment.md;
docs/security.md points 18, 33 and 34).

* a provider's answer is verified by the provider plugin (``payment_response``) **outside** any
  database lock (it may call the provider), then applied under a lock on the transaction;
* states move only as :data:`TRANSITIONS` says — ``pending → paid | refused | cancelled |
  expired`` — and a final state never changes, with one exception (:data:`LATE_TRANSITIONS`):
  a transaction expired only because its result stayed unknown moves to ``paid`` when the
  provider reports it paid late;
* an invoice is credited up to its total; any surplus is an overpayment for the régie to refund;
* an answer that cannot be verified server-to-server (``review``) never credits anything: an
  agent confirms or rejects it;
* a technical error (timeout, malformed answer) changes nothing: the transaction stays pending
  for the reconciliation.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from attrs import frozen

from famille_core import notify_family
from famille_core.entities import (
    EXPIRED_WITHOUT_RESULT,
    Invoice,
    PaymentState,
    PaymentTransaction,
)
from famille_core.errors import NotFound
from famille_core.hooks.results import ANOMALY, ERROR, REVIEW, WAITING, PaymentOutcome
from famille_core.money import to_cents
from famille_core.portal import Portal
from famille_core.services.payments import notices
from famille_core.services.payments.rules import credit
from famille_core.uow import UnitOfWork

log = logging.getLogger(__name__)

TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    PaymentState.PENDING: frozenset(
        {PaymentState.PAID, PaymentState.REFUSED, PaymentState.CANCELLED, PaymentState.EXPIRED}
    ),
    PaymentState.PAID: frozenset(),
    PaymentState.REFUSED: frozenset(),
    PaymentState.CANCELLED: frozenset(),
    PaymentState.EXPIRED: frozenset(),
}
"""Where a transaction may go from each state: only out of ``pending``, once."""
LATE_TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    PaymentState.EXPIRED: frozenset({PaymentState.PAID}),
}
"""The one exception (docs/payment.md, "Late answers"): a transaction expired without a
result (:attr:`PaymentTransaction.awaits_late_answer`) moves to ``paid`` when its provider says
so."""


def may_move(transaction: PaymentTransaction, state: PaymentState) -> bool:
    """Whether ``transaction`` may move to ``state`` (:data:`TRANSITIONS`, and
    :data:`LATE_TRANSITIONS` while it awaits a late answer)."""
    if state in TRANSITIONS[transaction.state]:
        return True
    return transaction.awaits_late_answer and state in LATE_TRANSITIONS.get(
        transaction.state, frozenset()
    )


def needs_agent(transaction: PaymentTransaction) -> bool:
    """An answer an agent must check: a claim that cannot be verified (``review``), or a
    verified answer that contradicts the transaction (``anomaly``), not decided yet."""
    data = transaction.provider_data
    if "review_decision" in data:
        return False
    if transaction.state is PaymentState.PENDING:
        return "review" in data or data.get("last_status") == ANOMALY
    return transaction.awaits_late_answer and "review" in data


# --------------------------------------------------------------------------- answers


@frozen(kw_only=True)
class AnswerResult:
    """What became of a provider's answer: the transaction's state after it."""

    transaction_id: int
    state: PaymentState
    changed: bool


def _askable(transaction: PaymentTransaction) -> bool:
    """Pending, or expired without a result (a late answer may still come)."""
    return not transaction.state.is_final or transaction.awaits_late_answer


def _ask(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome | None:
    """The provider plugin's verification of ``data`` (no lock held: it may call the
    provider); ``None`` when no plugin answers or the verification failed technically."""
    try:
        outcome: PaymentOutcome | None = portal.hook.payment_response(
            portal=portal, transaction=transaction, data=data
        )
    except Exception as exc:
        # A provider bug must not credit anything, nor lose the transaction.
        log.error(
            "payment verification failed: %s",
            type(exc).__name__,
            extra={"transaction_id": transaction.id, "provider": transaction.provider},
        )
        return None
    return outcome


def verify(portal: Portal, transaction_id: int, data: dict[str, str]) -> PaymentOutcome | None:
    """Ask the transaction's provider to verify ``data`` (no lock held: it may call the
    provider). ``None`` when no plugin answers or the verification failed technically."""
    with portal.unit_of_work() as uow:
        transaction = uow.get(PaymentTransaction, transaction_id)
    # The unit of work is closed (its objects stay readable): no connection is held while the
    # provider is asked, so a slow provider cannot exhaust the pool.
    return None if transaction is None else _ask(portal, transaction, data)


def _current(portal: Portal, transaction_id: int) -> PaymentTransaction:
    with portal.unit_of_work() as uow:
        transaction = uow.get(PaymentTransaction, transaction_id)
    if transaction is None:
        log.warning(
            "payment answer refused: unknown transaction", extra={"transaction_id": transaction_id}
        )
        raise NotFound("Paiement introuvable.")
    return transaction


def handle_answer(portal: Portal, transaction_id: int, data: dict[str, str]) -> AnswerResult:
    """A provider's answer reached the return or notification URL of a transaction.

    Nobody is trusted here (the URLs carry no secret, docs/security.md point 37): the most an
    anonymous request can do is make the portal ask the provider about that one transaction.

    :raises NotFound: no such transaction (logged).
    """
    transaction = _current(portal, transaction_id)
    if not _askable(transaction):
        log.info(
            "payment answer for a settled transaction ignored",
            extra={"transaction_id": transaction_id, "state": transaction.state.value},
        )
        return AnswerResult(transaction_id=transaction_id, state=transaction.state, changed=False)
    return apply_outcome(portal, transaction_id, _ask(portal, transaction, data))


def refresh(portal: Portal, transaction_id: int, expiry: timedelta) -> AnswerResult:
    """Ask the provider about one transaction now and apply its answer: the reconciliation,
    « Vérifier maintenant », and a start that finds an older pending attempt.

    A result still unknown (``waiting``) ``expiry`` after the start expires the transaction
    "without a result": later reconciliations still ask about it (late answers). A technical
    error never expires anything, nor does a claim awaiting an agent.
    """
    transaction = _current(portal, transaction_id)
    if not _askable(transaction):
        return AnswerResult(transaction_id=transaction_id, state=transaction.state, changed=False)
    outcome = _ask(portal, transaction, {})
    waiting = (
        outcome is not None and outcome.state is None and outcome.data.get("status") == WAITING
    )
    if (
        waiting
        and transaction.state is PaymentState.PENDING
        and not needs_agent(transaction)
        and portal.clock.now() - transaction.created_at > expiry
    ):
        outcome = PaymentOutcome(
            provider_ref=None,
            transaction_id=transaction_id,
            state=PaymentState.EXPIRED.value,
            data={"reason": EXPIRED_WITHOUT_RESULT},
        )
    return apply_outcome(portal, transaction_id, outcome)


def _record_status(
    portal: Portal, transaction: PaymentTransaction, outcome: PaymentOutcome | None
) -> None:
    """An answer without a final state: note when and what; keep a claim for the agents."""
    details = dict(outcome.data) if outcome is not None else {}
    status = details.pop("status", None) or ERROR
    now = portal.clock.now().isoformat()
    data = {**transaction.provider_data, "last_check": now, "last_status": status}
    if status == ANOMALY:
        data["anomaly"] = details.get("anomaly", "")
    if status == REVIEW and "review" not in data:
        data["review"] = {**details, "at": now}
        transaction.updated_at = portal.clock.now()
        log.warning(
            "unverifiable payment answer kept for an agent",
            extra={"transaction_id": transaction.id, "provider": transaction.provider},
        )
    transaction.provider_data = data


def apply_outcome(
    portal: Portal, transaction_id: int, outcome: PaymentOutcome | None
) -> AnswerResult:
    """Move the transaction to the outcome's final state, once; credit the invoice when paid.

    Serialised per transaction (a named lock, and ``SELECT … FOR UPDATE`` on PostgreSQL): of
    twenty identical notifications in parallel, the first settles it and the others find a final
    state and change nothing. A transaction expired without a result accepts only a late
    ``paid`` (credited); another late final answer just ends the late checks.
    """
    with portal.unit_of_work() as uow:
        uow.lock(f"payment-transaction:{transaction_id}")
        transaction = uow.get(PaymentTransaction, transaction_id, for_update=True)
        if transaction is None:
            raise NotFound("Paiement introuvable.")
        unchanged = AnswerResult(
            transaction_id=transaction_id, state=transaction.state, changed=False
        )
        if not _askable(transaction):
            return unchanged
        if outcome is None or outcome.state is None:
            _record_status(portal, transaction, outcome)
            uow.commit()
            return unchanged
        state = PaymentState(outcome.state)
        if (
            state is PaymentState.PAID
            and outcome.amount_cents is not None
            and outcome.amount_cents != to_cents(transaction.amount)
        ):
            log.error(
                "payment verification mismatch: amount", extra={"transaction_id": transaction_id}
            )
            return unchanged
        if transaction.state.is_final and state is not PaymentState.PAID:
            transaction.provider_data = {**transaction.provider_data, "late_outcome": state.value}
            uow.commit()
            return unchanged
        finish(portal, uow, transaction, state, dict(outcome.data))
        uow.commit()
        log.info(
            "payment settled",
            extra={"transaction_id": transaction_id, "state": state.value},
        )
        return AnswerResult(transaction_id=transaction_id, state=state, changed=True)


def finish(
    portal: Portal,
    uow: UnitOfWork,
    transaction: PaymentTransaction,
    state: PaymentState,
    data: dict[str, Any],
) -> None:
    """The one place where a transaction leaves ``pending`` (or, late, ``expired`` for
    ``paid``): credit up to the invoice's total, overpayment, message, ``on_payment``."""
    late = transaction.awaits_late_answer
    if not may_move(transaction, state):
        raise RuntimeError("a final payment state never changes")  # pragma: no cover
    now = portal.clock.now()
    transaction.state = state
    transaction.updated_at = now
    transaction.provider_data = {
        **transaction.provider_data,
        **data,
        **({"late_outcome": state.value} if late else {}),
    }
    invoice = uow.get(Invoice, transaction.invoice_id, for_update=True)
    assert invoice is not None
    if state is PaymentState.PAID:
        overpayment = credit(uow, invoice, transaction, now)
        subject, body = notices.receipt(invoice, transaction, overpayment, late=late)
        notify_family(portal, uow, transaction.family_id, subject, body)
        if overpayment is not None or late:
            # For the régie: the agents' pages list both (docs/payment.md).
            log.warning(
                "payment received %s",
                "beyond the invoice's total" if overpayment is not None else "after its expiry",
                extra={"transaction_id": transaction.id, "invoice_id": invoice.id},
            )

    def _notify() -> None:
        portal.hook.on_payment(portal=portal, invoice=invoice, transaction=transaction)

    uow.after_commit(_notify)
