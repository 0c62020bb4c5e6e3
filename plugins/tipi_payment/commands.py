"""Commands of the tipi_payment plugin: ``famille reconcile-payments`` and
``famille payfip-simulator``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from famille_core.portal import PortalFactory


@click.command(
    "payfip-simulator",
    help="Lance le simulateur local de PayFiP (web service SOAP, page de paiement, "
    "notification, ancien paiement.web) pour la démonstration et les tests.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5050, show_default=True, type=int)
def simulator_command(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from famille_plugins.tipi_payment.simulator import PayfipSimulator

    click.echo(f"Simulateur PayFiP sur http://{host}:{port} (aucun paiement réel)")
    run_simple(host, port, PayfipSimulator(), threaded=True, use_reloader=False)


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
        from famille_plugins.tipi_payment.services import reconcile

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

    cli.add_command(simulator_command)
