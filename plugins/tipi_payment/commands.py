"""Commands of the tipi_payment plugin: ``famille payfip-simulator``, the local PayFiP simulator
(a development tool: only this command and the tests import it)."""

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
    from famille_plugins.tipi_payment.services.simulator import serve

    click.echo(f"Simulateur PayFiP sur http://{host}:{port} (aucun paiement réel)")
    serve(host, port)


def register(cli: Any, portal_factory: PortalFactory) -> None:
    """Add the plugin's commands to the ``famille`` group."""
    cli.add_command(simulator_command)
