"""Commands of the billing plugin: ``famille reconcile-payments`` and
``famille childcare-certificates``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from famille_core.hooks.results import RenderedDocument
    from famille_core.portal import Portal, PortalFactory
    from famille_plugins.billing.services.certificates import ChildcareCertificate


def register(
    cli: Any,
    portal_factory: PortalFactory,
    certificate_pdf: Callable[[Portal, ChildcareCertificate], RenderedDocument],
) -> None:
    """Add the plugin's commands to the ``famille`` group; they build the portal with
    ``portal_factory`` when they run; ``certificate_pdf`` renders an attestation de frais de
    garde (a web module's work, handed over by ``plugin.py``)."""

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

    @cli.command(
        "childcare-certificates",
        help="Produit toutes les attestations de frais de garde d'une année (une par enfant de "
        "moins de 6 ans au 1er janvier ayant des frais de garde payés), en PDF dans DOSSIER.",
    )
    @click.option("--annee", "year", type=click.IntRange(1900, 2199), required=True)
    @click.argument("folder", metavar="DOSSIER", type=click.Path(file_okay=False, path_type=Path))
    def certificates_command(year: int, folder: Path) -> None:
        from famille_plugins.billing.services.certificates import all_certificates

        portal = portal_factory()
        folder.mkdir(parents=True, exist_ok=True)
        found = list(all_certificates(portal, year))
        with click.progressbar(found, label=f"Attestations {year}", show_pos=True) as bar:
            for certificate in bar:
                document = certificate_pdf(portal, certificate)
                family = re.sub(r"[^A-Za-z0-9_-]", "_", certificate.family_number)
                (folder / f"{family}-{document.filename}").write_bytes(document.content)
        click.echo(f"{len(found)} attestation(s) de frais de garde {year} dans {folder}.")
