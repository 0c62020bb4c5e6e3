"""Payments of the tipi_payment plugin: starting a payment, and the payment state machine that
credits an invoice exactly once (the invoice queries live in :mod:`.invoices`).

The money rules (payfip.md, "What the implementation must guarantee"):

* a :class:`PaymentTransaction` is stored ``pending`` **before** the payer leaves for the provider;
* a provider's answer is verified by the provider plugin (``payment_response``) **outside** any
  database lock (it may call the provider), then applied under a lock on the transaction;
* states move only ``pending → paid | refused | cancelled | expired``; a final state never
  changes, so a replayed or parallel answer is a no-op and the invoice is credited once;
* a technical error (timeout, malformed answer) changes nothing: the transaction stays pending
  for ``famille reconcile-payments``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen

from famille_core import notify_family
from famille_core.entities import (
    Actor,
    Invoice,
    InvoiceStatus,
    PaymentState,
    PaymentTransaction,
    User,
)
from famille_core.errors import FamilleError, NotFound, ValidationFailed
from famille_core.hooks.results import PaymentOutcome, PaymentRedirect
from famille_core.money import format_euros, to_cents
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_plugins.tipi_payment import formats
from famille_plugins.tipi_payment.config import PAYFIP, TIPI
from famille_plugins.tipi_payment.invoices import (
    invoice_for,
    is_payable,
    offered_methods,
    settings_of,
)

log = logging.getLogger(__name__)

WAITING = "waiting"
"""``PaymentOutcome.data["status"]``: the provider does not know the result yet (PayFiP P5)."""
ERROR = "error"
"""``PaymentOutcome.data["status"]``: technical failure, outcome unknown (never expires)."""
ANOMALY = "anomaly"
"""``PaymentOutcome.data["status"]``: the verified answer contradicts the transaction."""
PAYFIP_PROVIDERS = (PAYFIP, TIPI)


class PaymentUnavailable(FamilleError):
    """The provider could not be reached: nothing was paid; the payer may try again later."""

    code = "payment_unavailable"


# --------------------------------------------------------------------------- starting a payment


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(transaction: PaymentTransaction, token: str) -> bool:
    """True when ``token`` is the per-transaction secret carried by the provider's URLs."""
    return bool(transaction.secret_hash) and hmac.compare_digest(
        transaction.secret_hash, _hash(token)
    )


UrlBuilder = Callable[[int, str], tuple[str, str]]
"""``(transaction id, secret token) -> (return URL, notification URL)``, absolute."""


def _payfip_fields(
    portal: Portal, uow: UnitOfWork, actor: Actor, invoice: Invoice, provider: str
) -> dict[str, Any]:
    """Check every PayFiP field before anything is stored (a refusal changes nothing)."""
    config = settings_of(portal)
    formats.montant_from_amount(invoice.balance)
    user = uow.get(User, actor.user_id) if actor.user_id is not None else None
    return {
        "refdet": formats.refdet_from_reference(invoice.reference),
        "exer": formats.exer_from_year(invoice.issue_date.year),
        "mode": config.saisie(provider),
        "provider_data": {
            "mel": formats.check_mel(user.email if user else ""),
            "numcli": formats.check_numcli(portal.settings.regie(invoice.regie_code).numcli),
        },
    }


def start_payment(
    portal: Portal, actor: Actor, invoice_id: int, provider: str, urls: UrlBuilder
) -> PaymentRedirect:
    """ "Payer en ligne": store a pending transaction, then ask its provider where to send the
    payer.

    :raises NotFound: not the actor's invoice.
    :raises ValidationFailed: the invoice cannot be paid online (already paid, 10,000 € or more,
        a field PayFiP would refuse); nothing is stored.
    :raises PaymentUnavailable: the provider did not answer; the transaction stays pending.
    """
    token = secrets.token_urlsafe(32)
    with portal.unit_of_work() as uow:
        invoice = invoice_for(uow, actor, invoice_id)
        if not is_payable(invoice):
            raise ValidationFailed.single(
                "not_payable", "Cette facture n'a plus rien à régler.", "invoice"
            )
        if provider not in {m.code for m in offered_methods(portal, invoice, actor)}:
            raise ValidationFailed.single(
                "unknown_method", "Ce moyen de paiement n'est pas proposé.", "method"
            )
        extra = (
            _payfip_fields(portal, uow, actor, invoice, provider)
            if provider in PAYFIP_PROVIDERS
            else {}
        )
        now = portal.clock.now()
        transaction = PaymentTransaction(
            invoice_id=invoice_id,
            family_id=invoice.family_id,
            provider=provider,
            amount=invoice.balance,
            secret_hash=_hash(token),
            created_at=now,
            updated_at=now,
            **extra,
        )
        uow.add(transaction)
        uow.commit()
        assert transaction.id is not None
        transaction_id = transaction.id
    return_url, notify_url = urls(transaction_id, token)
    with portal.unit_of_work() as uow:
        stored = uow.get(PaymentTransaction, transaction_id)
        billed = uow.get(Invoice, invoice_id)
        assert stored is not None and billed is not None
        transaction, invoice = stored, billed
        try:
            redirect: PaymentRedirect | None = portal.hook.payment_link(
                portal=portal,
                invoice=invoice,
                transaction=transaction,
                return_url=return_url,
                notify_url=notify_url,
            )
        except ValidationFailed:
            _finish(
                portal, uow, transaction, PaymentState.EXPIRED, {"reason": "refused_at_creation"}
            )
            uow.commit()
            raise
        except (FamilleError, OSError) as exc:
            log.warning(
                "payment link failed, transaction left pending: %s",
                type(exc).__name__,
                extra={"transaction_id": transaction_id, "provider": provider},
            )
            raise PaymentUnavailable(
                "Le service de paiement ne répond pas. Rien n'a été débité : réessayez dans "
                "quelques minutes."
            ) from exc
        if redirect is None:
            _finish(portal, uow, transaction, PaymentState.EXPIRED, {"reason": "no_provider"})
            uow.commit()
            raise PaymentUnavailable("Aucun service de paiement ne prend en charge ce paiement.")
        if redirect.provider_ref:
            transaction.provider_ref = redirect.provider_ref
            transaction.updated_at = portal.clock.now()
        uow.commit()
    log.info("payment started", extra={"transaction_id": transaction_id, "provider": provider})
    return redirect


# --------------------------------------------------------------------------- answers


@frozen(kw_only=True)
class AnswerResult:
    """What became of a provider's answer: the transaction's state after it."""

    transaction_id: int
    state: PaymentState
    changed: bool


def verify(portal: Portal, transaction_id: int, data: dict[str, str]) -> PaymentOutcome | None:
    """Ask the transaction's provider to verify ``data`` (no lock held: it may call the
    provider). ``None`` when no plugin answers or the verification failed technically."""
    with portal.unit_of_work() as uow:
        transaction = uow.get(PaymentTransaction, transaction_id)
    # The unit of work is closed (its objects stay readable): no connection is held while the
    # provider is asked, so a slow provider cannot exhaust the pool.
    if transaction is None:
        return None
    try:
        outcome: PaymentOutcome | None = portal.hook.payment_response(
            portal=portal, transaction=transaction, data=data
        )
    except Exception as exc:
        # A provider bug must not credit anything, nor lose the transaction.
        log.error(
            "payment verification failed: %s",
            type(exc).__name__,
            extra={"transaction_id": transaction_id, "provider": transaction.provider},
        )
        return None
    return outcome


def handle_answer(
    portal: Portal, transaction_id: int, token: str, data: dict[str, str]
) -> AnswerResult:
    """A provider's answer reached the return or notification URL of a transaction.

    :raises NotFound: no such transaction, or the secret of the URL is wrong (logged).
    """
    with portal.unit_of_work() as uow:
        transaction = uow.get(PaymentTransaction, transaction_id)
        if transaction is None or not token_matches(transaction, token):
            log.warning(
                "payment answer refused: unknown transaction or wrong secret",
                extra={"transaction_id": transaction_id},
            )
            raise NotFound("Paiement introuvable.")
        if transaction.state.is_final:
            log.info(
                "payment answer for a settled transaction ignored",
                extra={"transaction_id": transaction_id, "state": transaction.state.value},
            )
            return AnswerResult(
                transaction_id=transaction_id, state=transaction.state, changed=False
            )
    outcome = verify(portal, transaction_id, data)
    return apply_outcome(portal, transaction_id, outcome)


def apply_outcome(
    portal: Portal, transaction_id: int, outcome: PaymentOutcome | None
) -> AnswerResult:
    """Move the transaction to the outcome's final state, once; credit the invoice when paid.

    Serialised per transaction (a named lock, and ``SELECT … FOR UPDATE`` on PostgreSQL): of
    twenty identical notifications in parallel, the first settles it and the others find a final
    state and change nothing.
    """
    with portal.unit_of_work() as uow:
        uow.lock(f"payment-transaction:{transaction_id}")
        transaction = uow.get(PaymentTransaction, transaction_id, for_update=True)
        if transaction is None:
            raise NotFound("Paiement introuvable.")
        if transaction.state.is_final:
            return AnswerResult(
                transaction_id=transaction_id, state=transaction.state, changed=False
            )
        if outcome is None or outcome.state is None:
            status = (outcome.data.get("status") if outcome else None) or ERROR
            transaction.provider_data = {
                **transaction.provider_data,
                "last_check": portal.clock.now().isoformat(),
                "last_status": status,
            }
            uow.commit()
            return AnswerResult(
                transaction_id=transaction_id, state=transaction.state, changed=False
            )
        state = PaymentState(outcome.state)
        if (
            state is PaymentState.PAID
            and outcome.amount_cents is not None
            and outcome.amount_cents != to_cents(transaction.amount)
        ):
            log.error(
                "payment verification mismatch: amount", extra={"transaction_id": transaction_id}
            )
            return AnswerResult(
                transaction_id=transaction_id, state=transaction.state, changed=False
            )
        _finish(portal, uow, transaction, state, dict(outcome.data))
        uow.commit()
        log.info(
            "payment settled",
            extra={"transaction_id": transaction_id, "state": state.value},
        )
        return AnswerResult(transaction_id=transaction_id, state=state, changed=True)


def _finish(
    portal: Portal,
    uow: UnitOfWork,
    transaction: PaymentTransaction,
    state: PaymentState,
    data: dict[str, Any],
) -> None:
    """The one place where a transaction leaves ``pending``: credit, receipt, ``on_payment``."""
    if transaction.state.is_final:  # pragma: no cover - callers check under the lock
        raise RuntimeError("a final payment state never changes")
    transaction.state = state
    transaction.updated_at = portal.clock.now()
    transaction.provider_data = {**transaction.provider_data, **data}
    invoice = uow.get(Invoice, transaction.invoice_id, for_update=True)
    assert invoice is not None
    if state is PaymentState.PAID:
        invoice.paid_amount = invoice.paid_amount + transaction.amount
        if invoice.balance <= 0 and invoice.status is InvoiceStatus.OPEN:
            invoice.status = InvoiceStatus.PAID
        if invoice.balance < 0:
            log.warning("invoice overpaid", extra={"invoice_id": invoice.id})
        notify_family(
            portal,
            uow,
            transaction.family_id,
            f"Paiement reçu — facture n° {invoice.number}",
            receipt_text(invoice, transaction),
        )

    def _notify() -> None:
        portal.hook.on_payment(portal=portal, invoice=invoice, transaction=transaction)

    uow.after_commit(_notify)


def receipt_text(invoice: Invoice, transaction: PaymentTransaction) -> str:
    """The receipt posted to the household's inbox (no card data: PayFiP never sends any)."""
    lines = [
        f"Nous avons bien reçu votre paiement de {format_euros(transaction.amount)} "
        f"pour la facture n° {invoice.number} (référence {invoice.reference}).",
    ]
    numauto = str(transaction.provider_data.get("numauto") or "")
    if numauto:
        lines.append(f"Numéro d'autorisation : {numauto}.")
    lines.append(
        f"Reste à payer sur cette facture : {format_euros(max(invoice.balance, Decimal('0')))}."
    )
    lines.append("Merci.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- reconciliation


@frozen(kw_only=True)
class ReconcileReport:
    """What ``famille reconcile-payments`` did."""

    checked: int
    settled: dict[str, int]
    still_pending: int


def reconcile(portal: Portal) -> ReconcileReport:
    """Re-query every pending transaction (lost notifications, P5 results, timeouts).

    A result still unknown (``waiting``, P5) this long after the payment started
    (``pending_expiry_minutes``) expires the transaction; a technical error never does.
    """
    limit = timedelta(minutes=settings_of(portal).pending_expiry_minutes)
    with portal.unit_of_work() as uow:
        pending = [
            (t.id, t.created_at)
            for t in uow.find(PaymentTransaction, state=PaymentState.PENDING, order_by=("id",))
        ]
    settled: dict[str, int] = {}
    still = 0
    for transaction_id, created_at in pending:
        assert transaction_id is not None
        outcome = verify(portal, transaction_id, {})
        waiting = (
            outcome is not None and outcome.state is None and outcome.data.get("status") == WAITING
        )
        if waiting and portal.clock.now() - created_at > limit:
            outcome = PaymentOutcome(
                provider_ref=None,
                transaction_id=transaction_id,
                state=PaymentState.EXPIRED.value,
                data={"reason": "no_result_in_time"},
            )
        result = apply_outcome(portal, transaction_id, outcome)
        if result.changed:
            settled[result.state.value] = settled.get(result.state.value, 0) + 1
        elif result.state is PaymentState.PENDING:
            still += 1
    return ReconcileReport(checked=len(pending), settled=settled, still_pending=still)
