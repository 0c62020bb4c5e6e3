"""Commands of the billing plugin: ``famille reconcile-payments``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from famille_core.portal import PortalFactory


def register(cli: Any, portal_factory: PortalFactory) -> None:
    """Add the plugin's commands to the ``famille`` group; they build the portal with
    ``portal_factory`` when they run."""

    @cli.command(
        "reconcile-payments",
        help="Interroge le service de paiement sur les paiements en attente (notifications perdues, "
        "résultats P5), expire ceux restés sans résultat et redemande ceux-ci pendant 7 jours "
        "(un paiement confirmé en retard est enregistré).",
    )
    def reconcile_command() -> None:
        from famille_plugins.billing.services.payments import reconcile

        report = reconcile(portal_factory())
        settled = ", ".join(f"{count} {state}" for state, count in sorted(report.settled.items()))
        click.echo(
            f"{report.checked} paiement(s) en attente vérifié(s) ; "
            f"réglé(s) : {settled or 'aucun'} ; toujours en attente : {report.still_pending}."
        )
        if report.late_checked:
            click.echo(
                f"{report.late_checked} paiement(s) expiré(s) sans résultat redemandé(s) ; "
                f"confirmé(s) payé(s) depuis : {report.late_paid}."
            )
