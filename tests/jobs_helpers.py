"""What ``famille worker`` does, in the test's process: the scheduler's tick at a given instant,
then every job waiting in the queue, through Huey's own calls (the consumer's Scheduler and
Worker loops make the same ones)."""

from __future__ import annotations

from datetime import UTC, datetime

from famille_core import Portal
from famille_core.jobs import job_queue


def naive_utc(at: datetime) -> datetime:
    """Huey's time: naive UTC."""
    return at.astimezone(UTC).replace(tzinfo=None)


def run_queued(portal: Portal, at: datetime | None = None) -> int:
    """The scheduler's tick at ``at`` (periodic jobs due then, retries whose time has come),
    then every job in the queue; returns how many jobs ran."""
    huey = job_queue(portal).huey
    if at is not None:
        for task in huey.read_schedule(naive_utc(at)):
            huey.enqueue(task)
        for task in huey.read_periodic(naive_utc(at)):
            huey.enqueue(task)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task, naive_utc(at) if at is not None else None)
        ran += 1
    return ran
