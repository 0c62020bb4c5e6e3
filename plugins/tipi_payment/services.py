"""Payments of the tipi_payment plugin: starting a payment under the one-in-flight rule, and
the doors the host and the commands use (the state machine lives in :mod:`.states`, the invoice
queries in :mod:`.invoices`, the household's messages in :mod:`.notices`, the agents' decisions
in :mod:`.agents`).

The money rules (payfip.md, "What the implementation must guarantee"; docs/security.md points
18, 33 and 34; docs/payment.md says why each is so):

* **one payment in flight per invoice**: a start locks the invoice and refuses while a pending
  transaction may still be paid (younger than 15 minutes, or its provider does not know the
  result yet); an older one is asked about first, outside the lock;
* a :class:`PaymentTransaction` is stored ``pending`` **before** the payer leaves for the
  provider; the return and notification URLs carry no secret (docs/security.md point 37).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from famille_core.entities import (
    EXPIRED_WITHOUT_RESULT,
    Actor,
    Invoice,
    PaymentState,
    PaymentTransaction,
    User,
)
from famille_core.errors import FamilleError, ValidationFailed
from famille_core.hooks.results import PaymentRedirect
from famille_core.portal import Portal
from famille_core.services import payments
from famille_core.services.access import owned
from famille_core.uow import UnitOfWork
from famille_plugins.tipi_payment import formats
from famille_plugins.tipi_payment.config import PAYFIP, TIPI
from famille_plugins.tipi_payment.invoices import is_payable, offered_methods, settings_of
from famille_plugins.tipi_payment.states import (
    ANOMALY,
    ERROR,
    REVIEW,
    WAITING,
    AnswerResult,
    ReconcileReport,
    apply_outcome,
    finish,
    handle_answer,
    needs_agent,
    reconcile,
    refresh,
    verify,
)

__all__ = [
    "ANOMALY",
    "ERROR",
    "REVIEW",
    "WAITING",
    "AnswerResult",
    "PaymentInFlight",
    "PaymentUnavailable",
    "ReconcileReport",
    "apply_outcome",
    "check_now",
    "handle_answer",
    "needs_agent",
    "reconcile",
    "refresh",
    "resume_url",
    "start_payment",
    "verify",
]

log = logging.getLogger(__name__)

PAYFIP_PROVIDERS = (PAYFIP, TIPI)


class PaymentUnavailable(FamilleError):
    """The provider could not be reached: nothing was paid; the payer may try again later."""

    code = "payment_unavailable"


class PaymentInFlight(payments.PaymentInProgress):
    """A payment of the invoice may still be paid: no second one starts (docs/security.md
    point 33). ``resume_url`` is where the payer can finish it, when that is still possible."""

    def __init__(self, transaction: PaymentTransaction, now: datetime) -> None:
        super().__init__(
            "Un paiement en ligne de cette facture est déjà en cours. Pour éviter un double "
            "débit, un nouveau paiement ne peut pas commencer avant son résultat."
        )
        self.transaction_id = transaction.id
        self.resume_url = resume_url(transaction, now)


def resume_url(transaction: PaymentTransaction, now: datetime) -> str | None:
    """The provider's page of a payment just started (an idOp lives 15 minutes), so that a
    second tab or the back button continues it instead of starting another."""
    if transaction.state is not PaymentState.PENDING:
        return None
    if now - transaction.created_at >= payments.IN_FLIGHT:
        return None
    url = transaction.provider_data.get("resume_url")
    return str(url) if url else None


# --------------------------------------------------------------------------- starting a payment


UrlBuilder = Callable[[int], tuple[str, str]]
"""``transaction id -> (return URL, notification URL)``, absolute. They carry no secret
(docs/security.md point 37): an answer is only a reason to ask the provider."""


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


def _new_transaction(
    portal: Portal, uow: UnitOfWork, actor: Actor, invoice: Invoice, provider: str
) -> int:
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
    assert invoice.id is not None
    now = portal.clock.now()
    transaction = PaymentTransaction(
        invoice_id=invoice.id,
        family_id=invoice.family_id,
        provider=provider,
        amount=invoice.balance,
        created_at=now,
        updated_at=now,
        **extra,
    )
    uow.add(transaction)
    uow.commit()
    assert transaction.id is not None
    return transaction.id


def _store_pending(portal: Portal, actor: Actor, invoice_id: int, provider: str) -> int:
    """The one-in-flight rule, then the pending transaction (its id).

    Under the invoice's lock: no pending transaction → store one. A pending one younger than
    :data:`~famille_core.services.payments.IN_FLIGHT` (or awaiting an agent) → refused. An older
    one → asked about **outside** the lock (the provider may be slow), then decided again: paid
    leaves nothing to pay, expired or refused lets this attempt start, unknown refuses.
    """
    asked: set[int] = set()
    while True:
        with portal.unit_of_work() as uow:
            invoice = owned(payments.lock_invoice(uow, invoice_id), actor, "Facture")
            in_flight = payments.pending_transaction(uow, invoice_id)
            if in_flight is None:
                return _new_transaction(portal, uow, actor, invoice, provider)
            assert in_flight.id is not None
            now = portal.clock.now()
            if (
                in_flight.id in asked
                or now - in_flight.created_at < payments.IN_FLIGHT
                or needs_agent(in_flight)
            ):
                raise PaymentInFlight(in_flight, now)
            stale = in_flight.id
        asked.add(stale)
        refresh(portal, stale)


def start_payment(
    portal: Portal, actor: Actor, invoice_id: int, provider: str, urls: UrlBuilder
) -> PaymentRedirect:
    """ "Payer en ligne": store a pending transaction, then ask its provider where to send the
    payer.

    :raises NotFound: not the actor's invoice.
    :raises PaymentInFlight: another payment of the invoice may still be paid; nothing stored.
    :raises ValidationFailed: the invoice cannot be paid online (already paid, 10,000 € or more,
        a field PayFiP would refuse); nothing is stored.
    :raises PaymentUnavailable: the provider did not answer; the attempt is expired (nobody was
        sent to pay it) and a late verified answer would still be credited.
    """
    transaction_id = _store_pending(portal, actor, invoice_id, provider)
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


def check_now(portal: Portal, actor: Actor, invoice_id: int) -> AnswerResult | None:
    """« Vérifier maintenant » on an invoice of the actor's household: :func:`refresh` its
    pending payment; ``None`` when none is pending.

    :raises NotFound: not the actor's invoice.
    """
    with portal.unit_of_work() as uow:
        owned(uow.get(Invoice, invoice_id), actor, "Facture")
        pending = payments.pending_transaction(uow, invoice_id)
    if pending is None or pending.id is None:
        return None
    return refresh(portal, pending.id)
