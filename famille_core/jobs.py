"""The task queue: the jobs features contribute through the ``background_jobs`` hook, kept in a
shared store and run by ``famille worker`` (docs/jobs.md).

    enqueue(portal, "imports.run", kind="families", text=..., fmt="csv")  # → the job's id
    job_outcome(portal, job_id)                                           # waiting, done, failed
    due_jobs(portal, at)        # the periodic jobs the worker's scheduler starts at ``at``

The queue is Huey (docs/jobs.md says why): an SQLite file in the instance folder by default,
Redis or PostgreSQL where ``[jobs] storage`` says so. Huey is imported inside the functions, so
the core's base install (without the ``web`` extra) imports this module without it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from famille_core.clock import PARIS
from famille_core.errors import ConfigurationError, NotFound

if TYPE_CHECKING:
    from famille_core.hooks.results import BackgroundJob
    from famille_core.portal import Portal
    from famille_core.settings import Settings

log = logging.getLogger(__name__)

JOBS_FILE = "jobs.db"
"""The embedded store's file in the instance folder."""
FOLLOW_UP_SECONDS = 60
"""``mail.send`` runs every minute; a retry due sooner gets a run of its own."""
RETRY_BACKOFF = 2
"""Each retry of a failed job waits this many times longer than the previous one."""


class JobFailed(Exception):
    """A job raised: the queue sees only the job's name and the exception's class (its text may
    quote a person's data), and retries it."""


@frozen
class JobOutcome:
    """Where an enqueued job is: ``waiting`` (queued, running or between retries), ``done``
    (with its ``result``) or ``failed`` (every attempt failed; ``error`` is the class)."""

    state: str
    result: Any = None
    error: str = ""


def storage_url(settings: Settings, instance_path: Path | str) -> str:
    """Where jobs wait: ``FAMILLE_JOBS_STORAGE``, else ``[jobs] storage``, else the SQLite file
    ``jobs.db`` of the instance folder."""
    url = os.environ.get("FAMILLE_JOBS_STORAGE") or settings.jobs.storage
    if url:
        return url
    folder = Path(instance_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / JOBS_FILE}"


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)


def contributed_jobs(portal: Portal) -> dict[str, BackgroundJob]:
    """The enabled plugins' jobs, by name.

    :raises ConfigurationError: two plugins give the same name.
    """
    from famille_core.hooks import by_name

    return by_name(
        portal.hook.background_jobs(portal=portal), "Deux plugins déclarent la tâche « {name} »."
    )


class JobQueue:
    """The portal's Huey instance with one task per contributed job, and a periodic task more
    for each scheduled one (the scheduler of ``famille worker`` enqueues those)."""

    def __init__(self, portal: Portal) -> None:
        import huey

        self.url = storage_url(portal.settings, portal.instance_path)
        settings = portal.settings.jobs
        self.huey = huey.Huey(
            settings.name,
            utc=True,
            results=True,
            store_none=False,
            store_intermediate_errors=False,  # "failed" only once every retry has failed
            **_storage(self.url, settings.name),
        )
        self.jobs = contributed_jobs(portal)
        self.tasks: dict[str, Any] = {}
        for job in self.jobs.values():
            options = {
                "retries": settings.retries if job.retries is None else job.retries,
                "retry_delay": settings.retry_seconds,
                "retry_backoff": RETRY_BACKOFF,
            }
            runner = _runner(portal, job)
            self.tasks[job.name] = self.huey.task(name=job.name, **options)(runner)
            if job.schedule is not None:
                minute, hour, day, month, weekday = job.schedule.split()
                try:
                    when = huey.crontab(minute, hour, day, month, weekday, strict=True)
                except ValueError as exc:
                    raise ConfigurationError(
                        f"Tâche « {job.name} » : planification « {job.schedule} » invalide."
                    ) from exc
                self.huey.periodic_task(_in_paris(when), name=f"{job.name}.periodic", **options)(
                    runner
                )

    def enqueue(self, name: str, *, delay: float | None = None, **arguments: Any) -> str:
        """Put job ``name`` in the queue (to run in ``delay`` seconds); returns its id."""
        task = self.tasks.get(name)
        if task is None:
            raise NotFound(f"Tâche inconnue : « {name} ».")
        if delay is not None:
            return str(task.schedule(kwargs=arguments, delay=delay).id)
        return str(task(**arguments).id)

    def outcome(self, job_id: str) -> JobOutcome:
        """Where job ``job_id`` is (its result stays in the store)."""
        from huey.exceptions import TaskException

        try:
            value = self.huey.result(job_id, preserve=True)
        except TaskException as exc:
            error = str((exc.metadata or {}).get("error", ""))
            found = re.search(r"JobFailed\('[^:']*: (\w+)'\)", error)
            return JobOutcome("failed", error=found.group(1) if found else "")
        if value is None:
            return JobOutcome("waiting")
        return JobOutcome("done", result=value)

    def check(self) -> None:
        """Raise when the store does not answer (the health page's ``jobs`` check)."""
        self.huey.pending_count()

    def pending(self) -> int:
        """Jobs waiting in the queue now (not counting those scheduled for a retry)."""
        return int(self.huey.pending_count())

    def due(self, at: datetime) -> list[str]:
        """The periodic jobs the scheduler enqueues at instant ``at`` (aware), by name: the
        scheduler's own computation."""
        utc = at.astimezone(UTC).replace(tzinfo=None)  # what the scheduler passes
        return sorted(
            task.name.removesuffix(".periodic") for task in self.huey.read_periodic(utc)
        )


def _in_paris(matches: Callable[[datetime], bool]) -> Callable[[datetime], bool]:
    """A crontab read in Paris time, whatever the worker machine's time zone: Huey's scheduler
    passes naive UTC instants."""

    def validate(utc: datetime) -> bool:
        return matches(utc.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None))

    return validate


def _storage(url: str, name: str) -> dict[str, Any]:
    """Huey's storage class and options for ``url``."""
    from huey import storage

    if url.startswith("sqlite:///"):
        return {"storage_class": storage.SqliteStorage, "filename": url.removeprefix("sqlite:///")}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"storage_class": _redis_storage_class(), "url": url}
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        return {"storage_class": storage.PostgresStorage, "dsn": dsn, "table_prefix": f"{name}_jobs"}
    raise ConfigurationError(
        f"[jobs] storage : « {redacted(url)} » n'est ni sqlite:///…, ni redis://…, ni "
        "postgresql://…"
    )


def _redis_storage_class() -> type:
    from huey.storage import RedisStorage

    class PrefixedRedisStorage(RedisStorage):
        """Huey's Redis storage with every key under ``<queue name>:`` (one prefix to watch or
        delete per portal)."""

        def __init__(self, name: str = "famille", **options: Any) -> None:
            super().__init__(name=name, **options)
            self.queue_key = f"{name}:queue"
            self.schedule_key = f"{name}:schedule"
            self.result_key = f"{name}:results"
            self.counter_key = f"{name}:counters"
            self.notify_prefix = f"{name}:notify:"

    return PrefixedRedisStorage


def _runner(portal: Portal, job: BackgroundJob) -> Callable[..., Any]:
    """Huey's function for ``job``: runs it with the worker's portal; a failure is logged and
    raised again as :class:`JobFailed`, by name and class only."""

    def run(**arguments: Any) -> Any:
        try:
            return job.run(portal, **arguments)
        except Exception as exc:
            error = type(exc).__name__
            log.warning("job %s failed: %s", job.name, error)
            raise JobFailed(f"{job.name}: {error}") from None

    run.__name__ = run.__qualname__ = job.name
    return run


def job_queue(portal: Portal) -> JobQueue:
    """The portal's queue, built once per portal."""
    if portal.job_queue is None:
        portal.job_queue = JobQueue(portal)
    queue: JobQueue = portal.job_queue
    return queue


def enqueue(portal: Portal, name: str, *, delay: float | None = None, **arguments: Any) -> str:
    """Put job ``name`` in the portal's queue with ``arguments`` (picklable), to run now or in
    ``delay`` seconds; returns its id.

    :raises NotFound: no enabled plugin gives a job of that name.
    """
    return job_queue(portal).enqueue(name, delay=delay, **arguments)


def job_outcome(portal: Portal, job_id: str) -> JobOutcome:
    """Where the job ``job_id`` is, and its result once done."""
    return job_queue(portal).outcome(job_id)


def due_jobs(portal: Portal, at: datetime) -> list[str]:
    """The names of the periodic jobs ``famille worker``'s scheduler starts at ``at``."""
    return job_queue(portal).due(at)


class QueueWaker:
    """``portal.mail_sender`` for ``[mail] delivery = "queue"``: after a commit that queued
    e-mail, the web process enqueues the ``mail.send`` job and the worker sends (docs/mail.md).
    If the queue's store is unreachable, the outbox's periodic pass sends within a minute."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def ensure_started(self) -> None:
        """Nothing runs in this process."""

    def wake(self) -> None:
        """Ask the worker to send what is due now."""
        try:
            enqueue(self.portal, "mail.send")
        except Exception as exc:  # the store is down: the periodic pass sends it
            log.warning("could not wake the worker", extra={"error": type(exc).__name__})

    def stop(self, timeout: float = 0.0) -> None:
        """Nothing to stop."""


def send_outbox_job(portal: Portal) -> None:
    """The core's ``mail.send`` job: send what is due (:func:`famille_core.mail_queue.send_outbox`),
    then, when the next attempt comes before the scheduler's next minute (a retry after a short
    outage, a dead sender's lease ending), ask the queue to run again at that moment."""
    from famille_core.mail_queue import next_attempt_in, send_outbox

    send_outbox(portal)
    wait = next_attempt_in(portal)
    if wait is not None and wait.total_seconds() < FOLLOW_UP_SECONDS:
        enqueue(portal, "mail.send", delay=max(wait.total_seconds(), 0.0) + 0.5)
