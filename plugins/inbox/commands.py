"""Commands of the inbox plugin: ``famille inbox-clean``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from famille_core.portal import PortalFactory


def register(cli: Any, portal_factory: PortalFactory) -> None:
    """Add the plugin's commands to the ``famille`` group; they build the portal with
    ``portal_factory`` when they run."""

    @cli.command(
        "inbox-clean",
        help="Supprime les fichiers de pièces jointes qu'aucun message n'utilise plus.",
    )
    @click.option(
        "--dry-run", is_flag=True, help="Affiche ce qui serait supprimé sans rien supprimer."
    )
    @click.option(
        "--grace-minutes",
        type=click.IntRange(min=0),
        default=60,
        show_default=True,
        help="Garde les fichiers plus récents (envoi en cours).",
    )
    def clean_command(dry_run: bool, grace_minutes: int) -> None:
        from famille_plugins.inbox.services.maintenance import clean_orphans

        portal = portal_factory()
        with portal.unit_of_work() as uow:
            report = clean_orphans(
                portal, uow, grace_seconds=grace_minutes * 60, dry_run=dry_run
            )
        prefix = "Simulation (rien n'a été supprimé)" if dry_run else "Nettoyage terminé"
        click.echo(
            f"{prefix} : {len(report.orphans)} fichier(s) orphelin(s)"
            f", {report.missing} pièce(s) jointe(s) sans fichier."
        )
