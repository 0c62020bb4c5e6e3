"""Asking again about what is not settled (docs/payment.md, "Commands" and "Late answers"):
every pending transaction (lost notifications, results not known yet, timeouts), and every
transaction expired without a result lately, since a late "paid" is still credited."""

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from famille_core.entities import PaymentState, PaymentTransaction
from famille_core.portal import Portal
from famille_core.services.payments.states import refresh
from famille_core.uow import Gte

LATE_ANSWER_HORIZON = timedelta(days=7)
"""How long the reconciliation keeps asking about a transaction expired without a result
(PayFiP forgets an idOp the night after: it answers P1 long before)."""


@frozen(kw_only=True)
class ReconcileReport:
    """What a reconciliation did."""

    checked: int
    settled: dict[str, int]
    still_pending: int
    late_checked: int = 0
    """Transactions expired without a result, asked again."""
    late_paid: int = 0
    """… of which the provider now says they were paid (credited or overpaid)."""


def reconcile(portal: Portal, expiry: timedelta) -> ReconcileReport:
    """Re-query every pending transaction (expired "without a result" once still unknown
    ``expiry`` after its start), and every transaction expired without a result in the last
    :data:`LATE_ANSWER_HORIZON`."""
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
        result = refresh(portal, transaction_id, expiry)
        if result.changed:
            settled[result.state.value] = settled.get(result.state.value, 0) + 1
        elif result.state is PaymentState.PENDING:
            still += 1
    for transaction_id in late:
        assert transaction_id is not None
        late_paid += refresh(portal, transaction_id, expiry).changed
    return ReconcileReport(
        checked=len(pending),
        settled=settled,
        still_pending=still,
        late_checked=len(late),
        late_paid=late_paid,
    )
