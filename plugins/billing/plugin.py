"""Hook implementations of the billing plugin: invoices (Factures) and their payment, whatever
the provider.

The plugin shows a household its invoices and lets it pay them through the providers that
``[plugins.billing] providers`` names (``payfip`` and ``tipi`` of the ``tipi_payment`` plugin,
the desk example's ``guichet``…); it owns the answer routes, the agents' payment pages, the
invoice documents, its API operations, export kind, data sections, feed events, demo invoices
and ``famille reconcile-payments``. The money rules are the core's
(:mod:`famille_core.services.payments`); a provider plugin only speaks its protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import BackgroundJob, HomePanel, MenuItem, RenderedDocument
from famille_plugins.billing.settings import NAME, BillingSettings

if TYPE_CHECKING:
    from famille_core.entities import Actor, Invoice
    from famille_core.hooks.results import EventPolicy, ExportKind
    from famille_core.portal import Portal, PortalFactory
    from famille_core.uow import UnitOfWork


@hookimpl
def plugin_settings() -> tuple[str, type]:
    return (NAME, BillingSettings)


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        return [
            MenuItem(label="Trop-perçus", endpoint="billing_agents.overpayments", order=50, agent=True),
            MenuItem(label="Paiements à vérifier", endpoint="billing_agents.to_check", order=51, agent=True),
        ]  # fmt: skip
    return [MenuItem(label="Factures", endpoint="billing.index", order=50)]


@hookimpl
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """ "Factures": what is left to pay, for a household; for agents, the payments to handle
    (when there are any)."""
    if actor.is_agent:
        from famille_plugins.billing.services.agents import counts

        to_refund, waiting = counts(portal, uow, actor)
        if not to_refund and not waiting:
            return []
        return [
            HomePanel(
                title="Paiements à traiter",
                template="billing/agents/home_panel.html",
                context={"to_refund": to_refund, "to_check": waiting},
                order=50,
            )
        ]
    if actor.family_id is None:
        return []
    from famille_plugins.billing.services.invoices import family_invoices, is_payable

    unpaid = [invoice for invoice in family_invoices(uow, actor) if is_payable(invoice)]
    return [
        HomePanel(
            title="Factures",
            template="billing/home_panel.html",
            context={
                "count": len(unpaid),
                "total": sum((invoice.balance for invoice in unpaid), Decimal("0.00")),
            },
            order=50,
        )
    ]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.billing import agents_web, web

    return [web.bp, agents_web.bp]


@hookimpl
def register_commands(cli: Any, portal_factory: PortalFactory) -> None:
    from famille_plugins.billing.commands import register

    def certificate_pdf(portal: Portal, certificate: Any) -> RenderedDocument:
        # The PDF needs the web extra (Jinja, WeasyPrint): imported when a certificate is made.
        from famille_plugins.billing.services.documents_web import certificate_pdf as render

        return render(portal, certificate)

    register(cli, portal_factory, certificate_pdf)


@hookimpl
def background_jobs(portal: Portal) -> Sequence[BackgroundJob]:
    """Reconciliation every few minutes (what ``famille reconcile-payments`` does, docs/jobs.md)."""
    from famille_plugins.billing.services.payments import reconcile
    from famille_plugins.billing.settings import settings_of

    return [
        BackgroundJob(
            name="payments.reconcile",
            run=reconcile,
            schedule=settings_of(portal).reconcile_schedule,
            description="Vérifie les paiements en attente auprès du service de paiement.",
        )
    ]


@hookimpl
def render_invoice(portal: Portal, invoice: Invoice, format: str) -> RenderedDocument | None:
    from famille_plugins.billing.services.documents_web import render

    return render(portal, invoice, format)


@hookimpl
def api_operations(portal: Portal) -> Sequence[Any]:
    """``GET /invoices``, ``POST /invoices`` and ``GET /payments``, for the ERP."""
    from famille_plugins.billing.api import OPERATIONS

    return OPERATIONS


@hookimpl
def family_data_sections(portal: Portal, uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """ "Mes données": the household's invoices, their lines, its payments and overpayments."""
    from famille_plugins.billing.services.data import family_sections

    return family_sections(uow, family_id)


@hookimpl
def export_kinds(portal: Portal) -> Sequence[ExportKind]:
    """``famille export payments``."""
    from famille_plugins.billing.services.data import EXPORT_KINDS

    return EXPORT_KINDS


@hookimpl
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """``payment.made`` and ``payment.<state>``."""
    from famille_plugins.billing.services.data import EVENT_POLICIES

    return EVENT_POLICIES


@hookimpl
def populate_demo(portal: Portal, uow: UnitOfWork) -> None:
    from famille_plugins.billing.demo import populate

    populate(portal, uow)
