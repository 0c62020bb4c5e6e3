"""``famille worker`` and ``famille jobs``: the task queue for operators (docs/jobs.md)."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from famille_core import Portal
from host_flask.instance import current_portal


def queue_portal() -> Portal:
    """The configured portal, waking the worker through the queue when ``[mail] delivery =
    "queue"`` (what a job queues is sent at once)."""
    from famille_core.jobs import QueueWaker

    portal = current_portal()
    if portal.settings.mail.delivery == "queue":
        portal.mail_sender = QueueWaker(portal)
    return portal


@click.command(
    "worker",
    help="Exécute les tâches de fond (envoi des e-mails, rapprochement des paiements, purges, "
    "imports) et lance les tâches périodiques à leur heure. S'arrête proprement sur SIGTERM ou "
    "Ctrl+C, après la tâche en cours.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Tâches exécutées en même temps (fils d'exécution).",
)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Ne lance pas les tâches périodiques (quand un autre « famille worker » s'en charge).",
)
def worker_command(threads: int, no_scheduler: bool) -> None:
    # Stopped while it starts: no job in hand yet, so a clean exit (the consumer's own handler
    # takes over once it runs).
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
    from huey.consumer import Consumer

    from famille_core.jobs import job_queue, redacted
    from famille_core.logs import configure_logging

    portal = queue_portal()
    configure_logging(portal.settings.logging)  # [logging]: text or JSON lines, no request id
    queue = job_queue(portal)
    consumer = Consumer(
        queue.huey,
        workers=threads,
        periodic=not no_scheduler,
        worker_type="thread",
        max_delay=2.0,  # an idle worker looks at an SQLite queue at least every 2 s
        graceful_signal="TERM",  # systemd's stop: finish the job in hand
    )
    scheduled = [job for job in queue.jobs.values() if job.schedule is not None]
    click.echo(
        f"Tâches de fond : {threads} fil(s), file {redacted(queue.url)}, "
        + ("sans tâches périodiques." if no_scheduler else f"{len(scheduled)} tâche(s) périodique(s).")
    )
    consumer.run()
    click.echo("Tâches de fond arrêtées.")


@click.group("jobs", help="Les tâches de fond : liste, lancement, résultat.")
def jobs_group() -> None:
    """Operators' view of the task queue."""


@jobs_group.command("list", help="Liste les tâches des plugins activés et leur planification.")
def jobs_list() -> None:
    from famille_core.jobs import job_queue

    queue = job_queue(current_portal())
    for job in sorted(queue.jobs.values(), key=lambda job: job.name):
        when = f"« {job.schedule} »" if job.schedule else "à la demande"
        click.echo(f"{job.name:<22} {when:<18} {job.description}")
    click.echo(f"En attente dans la file : {queue.pending()}.")


@jobs_group.command("run", help="Met la tâche NAME dans la file (le travailleur l'exécute).")
@click.argument("name")
def jobs_run(name: str) -> None:
    from famille_core.errors import NotFound
    from famille_core.jobs import enqueue

    try:
        job_id = enqueue(current_portal(), name)
    except NotFound as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Tâche « {name} » mise dans la file : n° {job_id}.")


@jobs_group.command("result", help="Affiche où en est la tâche JOB_ID, et son résultat.")
@click.argument("job_id")
def jobs_result(job_id: str) -> None:
    from famille_core.jobs import job_outcome
    from famille_core.services.imports import ImportReport

    outcome = job_outcome(current_portal(), job_id)
    if outcome.state == "waiting":
        click.echo("En attente ou en cours (ou inconnue).")
        sys.exit(3)
    if outcome.state == "failed":
        click.echo(f"Échec après toutes les tentatives ({outcome.error or 'erreur'}).")
        sys.exit(1)
    if isinstance(outcome.result, ImportReport):
        sys.exit(print_import_report(outcome.result))
    click.echo(f"Terminée : {outcome.result!r}")


def print_import_report(report: Any) -> int:
    """Print an import's per-line report and its counts; the exit code (1 with rejected lines)."""
    for error in report.errors:
        click.echo(f"ligne {error.line} — {error.field or '(ligne)'} : {error.message}")
    counts = report.counts
    prefix = "Simulation (rien n'a été écrit)" if report.dry_run else "Import terminé"
    click.echo(
        f"{prefix} : {counts['created']} créé(s), {counts['updated']} mis à jour, "
        f"{counts['unchanged']} inchangé(s), {counts['rejected']} rejeté(s)."
    )
    return 1 if report.errors else 0
