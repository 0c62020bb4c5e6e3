"""The payment state machine of the tipi_payment plugin: a provider's answer, verified by the
provider plugin, moves a transaction once; the invoice is credited up to its total; the
reconciliation asks again about what is not settled (docs/payment.md; docs/security.md points
18, 33 and 34).

* a provider's answer is verified by the provider plugin (``payment_response``) **outside** any
  database lock (it may call the provider), then applied under a lock on the transaction;
* states move only ``pending → paid | refused | cancelled | expired``; a final state never
  changes, with one exception: a transaction expired only because its result stayed unknown
  moves to ``paid`` when the provider reports it paid late;
* an invoice is credited up to its total; any surplus is an overpayment for the régie to refund;
* an answer that cannot be verified server-to-server (``review``) never credits anything: an
  agent confirms or rejects it;
* a technical error (timeout, malformed answer) changes nothing: the transaction stays pending
  for ``famille reconcile-payments``.
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
from famille_core.hooks.results import PaymentOutcome
from famille_core.money import to_cents
from famille_core.portal import Portal
from famille_core.services import payments
from famille_core.uow import Gte, UnitOfWork
from famille_plugins.tipi_payment import notices
from famille_plugins.tipi_payment.invoices import settings_of

log = logging.getLogger(__name__)

WAITING = "waiting"
"""``PaymentOutcome.data["status"]``: the provider does not know the result yet (PayFiP P5)."""
ERROR = "error"
"""``PaymentOutcome.data["status"]``: technical failure, outcome unknown (never expires)."""
ANOMALY = "anomaly"
"""``PaymentOutcome.data["status"]``: the verified answer contradicts the transaction."""
REVIEW = "review"
"""``PaymentOutcome.data["status"]``: the answer says "paid" but cannot be verified with the
provider (legacy TIPI): an agent checks it against the régie's statement (docs/security.md
point 34). The other keys of ``data`` are the claim shown to the agent."""
LATE_ANSWER_HORIZON = timedelta(days=7)
"""How long ``famille reconcile-payments`` keeps asking about a transaction expired without a
result (PayFiP forgets an idOp the night after: it answers P1 long before)."""


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


def refresh(portal: Portal, transaction_id: int) -> AnswerResult:
    """Ask the provider about one transaction now and apply its answer: the reconciliation,
    « Vérifier maintenant », and a start that finds an older pending attempt.

    A result still unknown (``waiting``) ``pending_expiry_minutes`` after the start expires the
    transaction "without a result": later reconciliations still ask about it (late answers).
    A technical error never expires anything, nor does a claim awaiting an agent.
    """
    transaction = _current(portal, transaction_id)
    if not _askable(transaction):
        return AnswerResult(transaction_id=transaction_id, state=transaction.state, changed=False)
    outcome = _ask(portal, transaction, {})
    limit = timedelta(minutes=settings_of(portal).pending_expiry_minutes)
    waiting = (
        outcome is not None and outcome.state is None and outcome.data.get("status") == WAITING
    )
    if (
        waiting
        and transaction.state is PaymentState.PENDING
        and not needs_agent(transaction)
        and portal.clock.now() - transaction.created_at > limit
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
    if transaction.state.is_final and not (late and state is PaymentState.PAID):
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
        overpayment = payments.credit(uow, invoice, transaction, now)
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


# --------------------------------------------------------------------------- reconciliation


@frozen(kw_only=True)
class ReconcileReport:
    """What ``famille reconcile-payments`` did."""

    checked: int
    settled: dict[str, int]
    still_pending: int
    late_checked: int = 0
    """Transactions expired without a result, asked again."""
    late_paid: int = 0
    """… of which the provider now says they were paid (credited or overpaid)."""


def reconcile(portal: Portal) -> ReconcileReport:
    """Re-query every pending transaction (lost notifications, P5 results, timeouts), and every
    transaction expired without a result in the last :data:`LATE_ANSWER_HORIZON`."""
    since = portal.clock.now() - LATE_ANSWER_HORIZON
    with portal.unit_of_work() as uow:
        pending = [
            t.id for t in uow.find(PaymentTransaction, state=PaymentState.PENDING, order_by=("id",))
        ]
        late = [
            t.id
            for t in uow.find(
                PaymentTransaction,
                state=PaymentState.EXPIRED,
                created_at=Gte(since),
                order_by=("id",),
            )
            if t.awaits_late_answer
        ]
    settled: dict[str, int] = {}
    still = late_paid = 0
    for transaction_id in pending:
        assert transaction_id is not None
        result = refresh(portal, transaction_id)
        if result.changed:
            settled[result.state.value] = settled.get(result.state.value, 0) + 1
        elif result.state is PaymentState.PENDING:
            still += 1
    for transaction_id in late:
        assert transaction_id is not None
        late_paid += refresh(portal, transaction_id).changed
    return ReconcileReport(
        checked=len(pending),
        settled=settled,
        still_pending=still,
        late_checked=len(late),
        late_paid=late_paid,
    )
