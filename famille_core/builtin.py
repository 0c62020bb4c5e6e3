"""Built-in defaults, registered as an ordinary plugin with ``trylast`` implementations.

Any plugin overrides them by answering first (``firstresult`` hooks) or extends them (collected
hooks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from famille_core.entities import AbsenceReason
from famille_core.hooks import hookimpl

if TYPE_CHECKING:
    from famille_core.entities import Activity, Child, Message, Thread
    from famille_core.hooks.results import (
        BackgroundJob,
        EventPolicy,
        HealthCheck,
        Notification,
    )
    from famille_core.portal import Portal
    from famille_core.uow import UnitOfWork

DEFAULT_ABSENCE_REASONS: tuple[AbsenceReason, ...] = (
    AbsenceReason(code="MEDICAL", label="RAISON MEDICALE", billable=False),
    AbsenceReason(code="SORTIE", label="VOYAGE OU SORTIE SCOLAIRE", billable=False),
    AbsenceReason(code="ENSEIGNANT", label="ABSENCE DE L'ENSEIGNANT", billable=False),
    AbsenceReason(code="GREVE", label="GREVE DU PERSONNEL OU DES ENSEIGNANTS", billable=False),
    AbsenceReason(code="ACCIDENT", label="ACCIDENT DE LA CIRCULATION", billable=False),
    AbsenceReason(code="SOUTIEN", label="PARTICIPATION A UNE SEQUENCE DE SOUTIEN", billable=False),
    AbsenceReason(code="FORCE_MAJEURE", label="CAS DE FORCE MAJEURE", billable=False),
    AbsenceReason(code="EXCEPTIONNEL", label="CIRCONSTANCES EXCEPTIONNELLES", billable=False),
    AbsenceReason(code="AUTRES", label="AUTRES", billable=True),
)
"""The nine reasons of the user guide, in its order."""


@hookimpl(trylast=True)
def absence_reasons(
    portal: Portal, child: Child | None, activity: Activity | None
) -> Sequence[AbsenceReason]:
    """The user guide's nine reasons."""
    return DEFAULT_ABSENCE_REASONS


@hookimpl(trylast=True)
def route_message(portal: Portal, thread: Thread, message: Message) -> str | None:
    """New conversations go to the collectivity's first service."""
    services = portal.settings.collectivity.services
    return services[0] if services else None


@hookimpl(trylast=True)
def deliver_notification(
    portal: Portal, uow: UnitOfWork | None, notification: Notification
) -> bool | None:
    """E-mail: queued in ``uow`` (else in a short transaction of its own), sent by the mail
    queue's sender through SMTP or the development outbox."""
    from famille_core.mail_queue import queue_email

    def queue(into: UnitOfWork) -> None:
        queue_email(
            portal,
            into,
            to=notification.to,
            subject=notification.subject,
            body=notification.body,
            kind=notification.kind,
        )

    if uow is not None:
        queue(uow)
    else:
        with portal.unit_of_work() as own:
            queue(own)
            own.commit()
    return True


@hookimpl
def background_jobs(portal: Portal) -> Sequence[BackgroundJob]:
    """The core's jobs (docs/jobs.md): the e-mail outbox every minute (and whenever a web process
    wakes the worker), the retention purge every night, long imports when enqueued."""
    from famille_core.hooks.results import BackgroundJob
    from famille_core.jobs import send_outbox_job
    from famille_core.services.imports import import_text
    from famille_core.services.retention import purge_job
    from famille_core.services.webhooks import deliver

    return [
        BackgroundJob(
            name="mail.send",
            run=send_outbox_job,
            schedule="* * * * *",
            description="Envoie les e-mails en attente (et réessaie ceux dont le délai est passé).",
        ),
        BackgroundJob(
            name="retention.purge",
            run=purge_job,
            schedule="30 3 * * *",
            description="Supprime les données de santé et photos au-delà de la durée de conservation.",
        ),
        BackgroundJob(
            name="webhooks.deliver",
            run=deliver,
            schedule="* * * * *",
            retries=0,  # each subscription waits its own backoff (docs/api.md, "Webhooks")
            description="Envoie les événements aux webhooks des ERP (et réessaie ceux en échec).",
        ),
        BackgroundJob(
            name="imports.run",
            run=import_text,
            description="Importe un fichier (famille import --background) et garde son rapport.",
        ),
    ]


@hookimpl
def health_checks(portal: Portal) -> Sequence[HealthCheck]:
    """``GET /sante``: the task queue's store answers (``jobs``; docs/jobs.md)."""
    from famille_core.hooks.results import HealthCheck
    from famille_core.jobs import job_queue

    return [HealthCheck(name="jobs", run=lambda: job_queue(portal).check())]


@hookimpl
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """The household's identity (:mod:`famille_core.feed`)."""
    from famille_core.feed import CORE_POLICIES

    return CORE_POLICIES
