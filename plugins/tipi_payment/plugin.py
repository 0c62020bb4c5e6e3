"""Hook implementations of the tipi_payment plugin: the PayFiP / TIPI payment provider.

The invoice pages, the answer routes and the money rules are elsewhere (the billing plugin
and the core); this plugin speaks PayFiP's two protocols for its two provider codes,
``payfip`` (web service) and ``tipi`` (legacy redirect), chosen with
``[plugins.billing] providers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import PaymentMethod, PaymentOutcome, PaymentRedirect
from famille_plugins.tipi_payment.settings import PAYFIP, TIPI, TipiSettings

if TYPE_CHECKING:
    from famille_core.entities import Actor, Invoice, PaymentTransaction
    from famille_core.portal import Portal, PortalFactory
    from famille_core.uow import UnitOfWork


@hookimpl
def plugin_settings() -> tuple[str, type]:
    return ("tipi_payment", TipiSettings)


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    """No page: PayFiP's origin allowed as a form target (CSP)."""
    from famille_plugins.tipi_payment.web import bp

    return [bp]


@hookimpl
def register_commands(cli: Any, portal_factory: PortalFactory) -> None:
    from famille_plugins.tipi_payment.commands import register

    register(cli, portal_factory)


@hookimpl
def payment_methods(portal: Portal, invoice: Invoice, actor: Actor) -> Sequence[PaymentMethod]:
    from famille_plugins.tipi_payment.services.providers import methods

    return methods(invoice)


@hookimpl
def payment_data(
    portal: Portal,
    uow: UnitOfWork,
    invoice: Invoice,
    actor: Actor,
    provider: str,
    payer_email: str | None,
) -> dict[str, Any] | None:
    if provider not in (PAYFIP, TIPI):
        return None
    from famille_plugins.tipi_payment.services.providers import payment_data as fields

    return fields(portal, uow, invoice, actor, provider, payer_email)


@hookimpl
def payment_link(
    portal: Portal,
    invoice: Invoice,
    transaction: PaymentTransaction,
    return_url: str,
    notify_url: str,
) -> PaymentRedirect | None:
    from famille_plugins.tipi_payment.services import providers

    if transaction.provider == PAYFIP:
        return providers.payfip_link(portal, invoice, transaction, return_url, notify_url)
    if transaction.provider == TIPI:
        return providers.tipi_link(portal, invoice, transaction, return_url)
    return None


@hookimpl
def payment_response(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome | None:
    from famille_plugins.tipi_payment.services import providers

    if transaction.provider == PAYFIP:
        return providers.payfip_outcome(portal, transaction, data)
    if transaction.provider == TIPI:
        return providers.tipi_outcome(portal, transaction, data)
    return None
