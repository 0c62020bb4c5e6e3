"""Hook implementations of the tipi_payment plugin: Factures and online payment through
PayFiP / TIPI.

The plugin owns the invoices pages and the payment state machine; the two PayFiP protocols are
its built-in providers (``payfip`` and ``tipi``). Another plugin adds a provider by answering
``payment_methods``, ``payment_link`` and ``payment_response`` for its own code, and a
collectivity picks providers with ``[plugins.tipi_payment] providers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import (
    BackgroundJob,
    HomePanel,
    MenuItem,
    PaymentMethod,
    PaymentOutcome,
    PaymentRedirect,
    RenderedDocument,
)
from famille_plugins.tipi_payment.config import PAYFIP, TIPI, TipiSettings

if TYPE_CHECKING:
    from famille_core.entities import Actor, Invoice, PaymentTransaction
    from famille_core.portal import Portal, PortalFactory
    from famille_core.uow import UnitOfWork

METHOD_LABELS = {PAYFIP: "Payer en ligne", TIPI: "Payer en ligne"}
"""Both protocols take the card on the State's secure service (PayFiP)."""


@hookimpl
def plugin_settings() -> tuple[str, type]:
    return ("tipi_payment", TipiSettings)


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        return [
            MenuItem(label="Trop-perçus", endpoint="tipi_payment_agents.overpayments", order=50, agent=True),
            MenuItem(label="Paiements à vérifier", endpoint="tipi_payment_agents.to_check", order=51, agent=True),
        ]  # fmt: skip
    return [MenuItem(label="Factures", endpoint="tipi_payment.index", order=50)]


@hookimpl
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """ "Factures": what is left to pay, for a household; for agents, the payments to handle."""
    if actor.is_agent:
        return _agents_panel(portal, uow, actor)
    if actor.family_id is None:
        return []
    from famille_plugins.tipi_payment.invoices import family_invoices, is_payable

    unpaid = [invoice for invoice in family_invoices(uow, actor) if is_payable(invoice)]
    return [
        HomePanel(
            title="Factures",
            template="tipi_payment/home_panel.html",
            context={
                "count": len(unpaid),
                "total": sum((invoice.balance for invoice in unpaid), Decimal("0.00")),
            },
            order=50,
        )
    ]


def _agents_panel(portal: Portal, uow: UnitOfWork, actor: Actor) -> list[HomePanel]:
    """Overpayments to refund and payments to check, when there are any."""
    from famille_plugins.tipi_payment.agents import counts

    to_refund, waiting = counts(portal, uow, actor)
    if not to_refund and not waiting:
        return []
    return [
        HomePanel(
            title="Paiements à traiter",
            template="tipi_payment/agents/home_panel.html",
            context={"to_refund": to_refund, "to_check": waiting},
            order=50,
        )
    ]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.tipi_payment.agents_web import bp as agents_bp
    from famille_plugins.tipi_payment.web import make_blueprint

    return [make_blueprint(portal), agents_bp]


@hookimpl
def register_commands(cli: Any, portal_factory: PortalFactory) -> None:
    from famille_plugins.tipi_payment.commands import register

    register(cli, portal_factory)


@hookimpl
def background_jobs(portal: Portal) -> Sequence[BackgroundJob]:
    """Reconciliation every few minutes (what ``famille reconcile-payments`` does, docs/jobs.md)."""
    from famille_plugins.tipi_payment.invoices import settings_of
    from famille_plugins.tipi_payment.services import reconcile

    return [
        BackgroundJob(
            name="payments.reconcile",
            run=reconcile,
            schedule=settings_of(portal).reconcile_schedule,
            description="Vérifie les paiements en attente auprès du service de paiement.",
        )
    ]


@hookimpl
def payment_methods(portal: Portal, invoice: Invoice, actor: Actor) -> Sequence[PaymentMethod]:
    from famille_core.errors import ValidationFailed
    from famille_plugins.tipi_payment.formats import montant_from_amount
    from famille_plugins.tipi_payment.invoices import settings_of

    try:
        montant_from_amount(invoice.balance)  # PayFiP takes less than 10,000 €
    except ValidationFailed:
        return []
    providers = settings_of(portal).providers
    return [
        PaymentMethod(code=code, label=label)
        for code, label in METHOD_LABELS.items()
        if code in providers
    ]


@hookimpl
def payment_link(
    portal: Portal,
    invoice: Invoice,
    transaction: PaymentTransaction,
    return_url: str,
    notify_url: str,
) -> PaymentRedirect | None:
    from famille_plugins.tipi_payment import providers

    if transaction.provider == PAYFIP:
        return providers.payfip_link(portal, invoice, transaction, return_url, notify_url)
    if transaction.provider == TIPI:
        return providers.tipi_link(portal, invoice, transaction, return_url)
    return None


@hookimpl
def payment_response(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome | None:
    from famille_plugins.tipi_payment import providers

    if transaction.provider == PAYFIP:
        return providers.payfip_outcome(portal, transaction, data)
    if transaction.provider == TIPI:
        return providers.tipi_outcome(portal, transaction, data)
    return None


@hookimpl
def render_invoice(portal: Portal, invoice: Invoice, format: str) -> RenderedDocument | None:
    from famille_plugins.tipi_payment.rendering import render

    return render(portal, invoice, format)
