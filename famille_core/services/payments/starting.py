"""Starting a payment, whatever the provider (docs/payment.md, "One payment in flight per
invoice"; docs/security.md points 33 and 37).

* **one payment in flight per invoice**: a start locks the invoice and refuses while a pending
  transaction may still be paid (younger than :data:`~.rules.IN_FLIGHT`, awaiting an agent, or
  its provider does not know the result yet); an older one is asked about first, outside the
  lock;
* the provider checks its own fields first (hook ``payment_data``): a refusal stores nothing;
* a :class:`PaymentTransaction` is stored ``pending`` **before** the payer leaves for the
  provider (hook ``payment_link``); the return and notification URLs carry no secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from famille_core.entities import (
    EXPIRED_WITHOUT_RESULT,
    Actor,
    Invoice,
    InvoiceStatus,
    PaymentState,
    PaymentTransaction,
)
from famille_core.errors import FamilleError, ValidationFailed
from famille_core.hooks.results import PaymentRedirect, PaymentUnavailable
from famille_core.portal import Portal
from famille_core.services.access import owned
from famille_core.services.payments.rules import (
    IN_FLIGHT,
    PaymentInProgress,
    lock_invoice,
    pending_transaction,
)
from famille_core.services.payments.states import AnswerResult, finish, needs_agent, refresh
from famille_core.uow import UnitOfWork

log = logging.getLogger(__name__)

UrlBuilder = Callable[[int], tuple[str, str]]
"""``transaction id -> (return URL, notification URL)``, absolute. They carry no secret
(docs/security.md point 37): an answer is only a reason to ask the provider."""
Offered = Callable[[Invoice], Collection[str]]
"""``invoice -> the provider codes offered for it`` (read under the invoice's lock)."""


class PaymentInFlight(PaymentInProgress):
    """A payment of the invoice may still be paid: no second one starts (docs/security.md
    point 33). ``resume_url`` is where the payer can finish it, when that is still possible."""

    def __init__(self, transaction: PaymentTransaction, now: datetime) -> None:
        super().__init__(
            "Un paiement en ligne de cette facture est déjà en cours. Pour éviter un double "
            "débit, un nouveau paiement ne peut pas commencer avant son résultat."
        )
        self.transaction_id = transaction.id
        self.resume_url = resume_url(transaction, now)


def is_payable(invoice: Invoice) -> bool:
    """An open invoice with something left to pay."""
    return invoice.status is InvoiceStatus.OPEN and invoice.balance > 0


def resume_url(transaction: PaymentTransaction, now: datetime) -> str | None:
    """The provider's page of a payment just started (a PayFiP idOp lives 15 minutes), so that
    a second tab or the back button continues it instead of starting another."""
    if transaction.state is not PaymentState.PENDING:
        return None
    if now - transaction.created_at >= IN_FLIGHT:
        return None
    url = transaction.provider_data.get("resume_url")
    return str(url) if url else None


def _new_transaction(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    invoice: Invoice,
    provider: str,
    offered: Offered,
    payer_email: str | None,
) -> int:
    if not is_payable(invoice):
        raise ValidationFailed.single(
            "not_payable", "Cette facture n'a plus rien à régler.", "invoice"
        )
    if provider not in offered(invoice):
        raise ValidationFailed.single(
            "unknown_method", "Ce moyen de paiement n'est pas proposé.", "method"
        )
    # The provider checks its own fields before anything is stored (a refusal changes nothing).
    data: dict[str, Any] | None = portal.hook.payment_data(
        portal=portal,
        uow=uow,
        invoice=invoice,
        actor=actor,
        provider=provider,
        payer_email=payer_email,
    )
    assert invoice.id is not None
    now = portal.clock.now()
    transaction = PaymentTransaction(
        invoice_id=invoice.id,
        family_id=invoice.family_id,
        provider=provider,
        amount=invoice.balance,
        created_at=now,
        updated_at=now,
        provider_data={**(data or {}), **({"without_account": True} if payer_email else {})},
    )
    uow.add(transaction)
    uow.commit()
    assert transaction.id is not None
    return transaction.id


def _store_pending(
    portal: Portal,
    actor: Actor,
    invoice_id: int,
    provider: str,
    offered: Offered,
    expiry: timedelta,
    payer_email: str | None = None,
) -> int:
    """The one-in-flight rule, then the pending transaction (its id).

    Under the invoice's lock: no pending transaction → store one. A pending one younger than
    :data:`~.rules.IN_FLIGHT` (or awaiting an agent) → refused. An older one → asked about
    **outside** the lock (the provider may be slow), then decided again: paid leaves nothing to
    pay, expired or refused lets this attempt start, unknown refuses.
    """
    asked: set[int] = set()
    while True:
        with portal.unit_of_work() as uow:
            invoice = owned(lock_invoice(uow, invoice_id), actor, "Facture")
            in_flight = pending_transaction(uow, invoice_id)
            if in_flight is None:
                return _new_transaction(
                    portal, uow, actor, invoice, provider, offered, payer_email
                )
            assert in_flight.id is not None
            now = portal.clock.now()
            if (
                in_flight.id in asked
                or now - in_flight.created_at < IN_FLIGHT
                or needs_agent(in_flight)
            ):
                raise PaymentInFlight(in_flight, now)
            stale = in_flight.id
        asked.add(stale)
        refresh(portal, stale, expiry)


def start_payment(
    portal: Portal,
    actor: Actor,
    invoice_id: int,
    provider: str,
    urls: UrlBuilder,
    *,
    offered: Offered,
    expiry: timedelta,
    payer_email: str | None = None,
) -> PaymentRedirect:
    """ "Payer en ligne": store a pending transaction, then ask its provider where to send the
    payer.

    :param offered: the provider codes the invoice may be paid with (the billing plugin's
        configured providers that an enabled plugin offers).
    :param expiry: how long a result may stay unknown before the attempt expires.
    :param payer_email: the address typed by a payer without an account (the provider sends
        its ticket there); ``None`` for a logged-in payer. The transaction's data then says
        ``without_account``.
    :raises NotFound: not the actor's invoice.
    :raises PaymentInFlight: another payment of the invoice may still be paid; nothing stored.
    :raises ValidationFailed: the invoice cannot be paid this way (already paid, a field the
        provider would refuse); nothing is stored.
    :raises PaymentUnavailable: the provider did not answer; the attempt is expired (nobody was
        sent to pay it) and a late verified answer would still be credited.
    """
    transaction_id = _store_pending(
        portal, actor, invoice_id, provider, offered, expiry, payer_email
    )
    return_url, notify_url = urls(transaction_id)
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
            finish(
                portal, uow, transaction, PaymentState.EXPIRED, {"reason": "refused_at_creation"}
            )
            uow.commit()
            raise
        except (FamilleError, OSError) as exc:
            log.warning(
                "payment link failed, attempt expired: %s",
                type(exc).__name__,
                extra={"transaction_id": transaction_id, "provider": provider},
            )
            # Nobody was sent to pay it; "without a result" keeps a late answer creditable.
            data = {"reason": EXPIRED_WITHOUT_RESULT, "creation": "failed"}
            finish(portal, uow, transaction, PaymentState.EXPIRED, data)
            uow.commit()
            raise PaymentUnavailable(
                "Le service de paiement ne répond pas. Rien n'a été débité : réessayez dans "
                "quelques minutes."
            ) from exc
        if redirect is None:
            finish(portal, uow, transaction, PaymentState.EXPIRED, {"reason": "no_provider"})
            uow.commit()
            raise PaymentUnavailable("Aucun service de paiement ne prend en charge ce paiement.")
        if redirect.provider_ref:
            transaction.provider_ref = redirect.provider_ref
            if redirect.method.upper() == "GET":
                transaction.provider_data = {
                    **transaction.provider_data,
                    "resume_url": redirect.url,
                }
        transaction.updated_at = portal.clock.now()
        uow.commit()
    log.info("payment started", extra={"transaction_id": transaction_id, "provider": provider})
    return redirect


def check_now(
    portal: Portal, actor: Actor, invoice_id: int, expiry: timedelta
) -> AnswerResult | None:
    """« Vérifier maintenant » on an invoice of the actor's household: :func:`~.states.refresh`
    its pending payment; ``None`` when none is pending.

    :raises NotFound: not the actor's invoice.
    """
    with portal.unit_of_work() as uow:
        owned(uow.get(Invoice, invoice_id), actor, "Facture")
        pending = pending_transaction(uow, invoice_id)
    if pending is None or pending.id is None:
        return None
    return refresh(portal, pending.id, expiry)
