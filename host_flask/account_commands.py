"""``famille invite``: invite every household without an active login (the command line's
"Comptes" → "Inviter", :mod:`famille_core.services.invitations`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from famille_core.entities import Actor
from host_flask.instance import current_portal


@click.command(
    "invite",
    help="Invite chaque responsable des familles sans compte actif : un e-mail avec un lien "
    "d'activation, ou un courrier à imprimer pour qui n'a pas d'adresse e-mail.",
)
@click.option("--dry-run", is_flag=True, help="Affiche ce qui serait fait sans rien envoyer.")
@click.option(
    "--courriers",
    "letters_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Fichier PDF où écrire les courriers à imprimer (un par famille).",
)
def invite_command(dry_run: bool, letters_path: Path | None) -> None:
    from famille_core.services.invitations import families_to_invite, invite_families

    portal = current_portal()
    with portal.unit_of_work() as uow:
        count = len(families_to_invite(uow))
    with click.progressbar(length=count, label="Invitations", file=sys.stderr) as bar:
        summary = invite_families(portal, Actor.system(), dry_run=dry_run, progress=bar.update)
    prefix = "Simulation (rien n'a été envoyé)" if dry_run else "Invitations faites"
    click.echo(
        f"{prefix} : {summary.families} famille(s) sans compte actif, {summary.emails} "
        f"e-mail(s), {summary.letters_to_print} courrier(s) à imprimer, dont {summary.reminders} "
        f"relance(s) ; {summary.disabled} compte(s) désactivé(s) laissé(s) de côté, "
        f"{summary.without_guardian} famille(s) sans responsable."
    )
    if summary.letters and letters_path is not None:
        from host_flask.letters import letters_pdf

        with portal.unit_of_work() as uow:
            letters_path.write_bytes(letters_pdf(portal, uow, summary.letters))
        click.echo(f"Courriers écrits dans {letters_path}")
    elif summary.letters:
        click.echo(
            "Les codes des courriers ne sont pas conservés : relancez avec --courriers FICHIER.pdf "
            "ou téléchargez-les depuis la page « Comptes » → « Inviter » (nouveaux codes)."
        )
