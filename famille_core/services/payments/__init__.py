"""The money rules of payments, whatever the provider and whatever the host (docs/payment.md;
docs/security.md points 18, 33 and 34). The core owns them so that they hold for every provider
and every front end; the ``billing`` plugin shows invoices and payments, a provider plugin
(``tipi_payment``, the desk example) only speaks its protocol.

* :mod:`.rules` — one payment in flight per invoice (``lock_invoice``), an invoice never
  credited beyond its total (``credit``), overpayments, no ERP change while paying;
* :mod:`.states` — the transaction's transition table and the one place a provider's verified
  answer is applied (late answers included);
* :mod:`.starting` — starting a payment: the one-in-flight rule, then the pending transaction
  stored before the payer leaves;
* :mod:`.reconcile` — asking again about what is not settled;
* :mod:`.notices` — what the household is told (receipt, refund, rejection).

The names of :mod:`.rules` are importable from this package.
"""

from famille_core.services.payments.rules import (
    CHANGE_REFUSED,
    IN_FLIGHT,
    PaymentInProgress,
    amount_owed,
    credit,
    lock_invoice,
    pending_transaction,
    refuse_change_while_paying,
)

__all__ = [
    "CHANGE_REFUSED",
    "IN_FLIGHT",
    "PaymentInProgress",
    "amount_owed",
    "credit",
    "lock_invoice",
    "pending_transaction",
    "refuse_change_while_paying",
]
