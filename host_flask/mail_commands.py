"""``famille send-mail`` and ``famille mail-status``: the mail queue for operators (docs/mail.md)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from datetime import datetime
from typing import Any

import click

from famille_core.clock import PARIS
from host_flask.instance import current_portal


def _when(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


@click.command(
    "send-mail",
    help="Envoie les e-mails en attente (une passe), par SMTP ou dans le dossier outbox selon "
    "[mail] mode. Les échecs sont réessayés plus tard, avec un délai croissant.",
)
@click.option(
    "--loop",
    is_flag=True,
    help="Continue jusqu'à Ctrl+C ou SIGTERM, en regardant la file toutes les --interval "
    "secondes (à lancer comme service avec [mail] delivery = \"worker\").",
)
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Secondes entre deux passes de --loop.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Remet d'abord en attente les e-mails en échec, avec de nouvelles tentatives.",
)
def send_mail_command(loop: bool, interval: float, retry_failed: bool) -> None:
    from famille_core.mail_queue import retry_failed as requeue
    from famille_core.mail_queue import run_sender, send_due

    portal = current_portal()
    if retry_failed:
        click.echo(f"{requeue(portal)} e-mail(s) en échec remis en attente.")
    if not loop:
        report = send_due(portal, limit=sys.maxsize)
        click.echo(
            f"Envoi terminé : {report.sent} envoyé(s), {report.retried} à réessayer plus tard, "
            f"{report.failed} en échec."
        )
        return
    stop, wake = threading.Event(), threading.Event()

    def finish(*_args: Any) -> None:
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, finish)
    click.echo("Envoi des e-mails en continu (Ctrl+C pour arrêter).")
    with contextlib.suppress(KeyboardInterrupt):
        run_sender(portal, wake, stop, interval)
    click.echo("Envoi arrêté.")


@click.command(
    "mail-status",
    help="Affiche la file d'attente des e-mails : en attente, envoyés, en échec. Code de sortie 1 "
    "s'il y a des e-mails en échec (pour la supervision).",
)
def mail_status_command() -> None:
    from famille_core.mail_queue import SENT_KEPT, mail_status

    status = mail_status(current_portal())
    click.echo("File d'attente des e-mails :")
    oldest = f", le plus ancien du {_when(status.oldest_pending)}" if status.oldest_pending else ""
    click.echo(f"  en attente : {status.pending} (dont {status.due} à envoyer maintenant){oldest}")
    click.echo(f"  envoyés ({SENT_KEPT.days} derniers jours) : {status.sent}")
    click.echo(f"  en échec : {status.failed}")
    if status.failures:
        click.echo("Derniers échecs (famille send-mail --retry-failed pour les renvoyer) :")
        for email in status.failures:
            click.echo(
                f"  n° {email.id}  {email.kind}  créé le {_when(email.created_at)}  "
                f"{email.attempts} tentative(s)  {email.last_error or '-'}"
            )
    if status.failed:
        sys.exit(1)
