"""Payments as the billing plugin drives them: the core's money rules
(:mod:`famille_core.services.payments`) with the plugin's settings — the providers offered and
how long a result may stay unknown (``[plugins.billing]``).

The state machine, the one-in-flight rule, the crediting and the household's notices are the
core's; this module only hands them what a collectivity configured (and names the core's doors
the pages and the commands use).
"""

from __future__ import annotations

from datetime import timedelta

from famille_core.entities import Actor, Invoice
from famille_core.hooks.results import PaymentRedirect
from famille_core.portal import Portal
from famille_core.services.payments import reconcile as reconciliation
from famille_core.services.payments import starting, states
from famille_core.services.payments.starting import PaymentInFlight
from famille_core.services.payments.states import (
    AnswerResult,
    apply_outcome,
    handle_answer,
    needs_agent,
    verify,
)
from famille_plugins.billing.services.invoices import offered_methods
from famille_plugins.billing.settings import settings_of

__all__ = [
    "AnswerResult",
    "PaymentInFlight",
    "apply_outcome",
    "check_now",
    "expiry",
    "handle_answer",
    "needs_agent",
    "reconcile",
    "refresh",
    "start_payment",
    "verify",
]


def expiry(portal: Portal) -> timedelta:
    """How long a payment's result may stay unknown before it expires "without a result"."""
    return timedelta(minutes=settings_of(portal).pending_expiry_minutes)


def start_payment(
    portal: Portal, actor: Actor, invoice_id: int, provider: str, urls: starting.UrlBuilder
) -> PaymentRedirect:
    """ "Payer en ligne" with one of the configured providers
    (:func:`famille_core.services.payments.starting.start_payment`)."""

    def offered(invoice: Invoice) -> set[str]:
        return {method.code for method in offered_methods(portal, invoice, actor)}

    return starting.start_payment(
        portal, actor, invoice_id, provider, urls, offered=offered, expiry=expiry(portal)
    )


def check_now(portal: Portal, actor: Actor, invoice_id: int) -> AnswerResult | None:
    """« Vérifier maintenant » (:func:`famille_core.services.payments.starting.check_now`)."""
    return starting.check_now(portal, actor, invoice_id, expiry(portal))


def refresh(portal: Portal, transaction_id: int) -> AnswerResult:
    """Ask the provider about one transaction now
    (:func:`famille_core.services.payments.states.refresh`)."""
    return states.refresh(portal, transaction_id, expiry(portal))


def reconcile(portal: Portal) -> reconciliation.ReconcileReport:
    """``famille reconcile-payments``: ask the providers about every payment not settled
    (:func:`famille_core.services.payments.reconcile.reconcile`)."""
    return reconciliation.reconcile(portal, expiry(portal))
