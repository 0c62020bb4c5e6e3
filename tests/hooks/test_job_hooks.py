"""``background_jobs``: the jobs every enabled plugin gives the task queue, run by name through
the queue's store (the embedded SQLite file of the instance folder), retried with a growing
delay when they fail, and logged without the exception's text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from famille_core import ConfigurationError, Portal, hookimpl
from famille_core.hooks.results import BackgroundJob
from famille_core.jobs import contributed_jobs, enqueue, job_outcome, job_queue
from tests.hooks.conftest import plugged
from tests.jobs_helpers import run_queued


class Doubling:
    """A plugin with a job run on demand and one that always fails."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    @hookimpl
    def background_jobs(self, portal: Portal) -> list[BackgroundJob]:
        return [
            BackgroundJob(name="test.double", run=self.double),
            BackgroundJob(name="test.fail", run=self.fail, retries=2),
        ]

    def double(self, portal: Portal, number: int) -> int:
        self.calls.append(number)
        return number * 2

    def fail(self, portal: Portal) -> None:
        raise ValueError("parent@example.org n'a pas de compte")


class SameName:
    @hookimpl
    def background_jobs(self, portal: Portal) -> list[BackgroundJob]:
        return [BackgroundJob(name="mail.send", run=lambda portal: None)]


def test_background_jobs_collected_with_the_bundled_ones_and_run_by_name(portal: Portal) -> None:
    plugin = Doubling()
    with plugged(portal, plugin):
        jobs = contributed_jobs(portal)
        assert {"mail.send", "retention.purge", "imports.run", "payments.reconcile", "webhooks.deliver"} < set(jobs)
        assert jobs["payments.reconcile"].schedule == "*/5 * * * *"  # from billing
        job_id = enqueue(portal, "test.double", number=21)
        assert job_outcome(portal, job_id).state == "waiting"
        assert plugin.calls == []  # enqueued, not run
        assert job_queue(portal).pending() == 1  # in the store, not in this process's memory
        assert run_queued(portal) == 1
    assert plugin.calls == [21]
    outcome = job_outcome(portal, job_id)
    assert (outcome.state, outcome.result) == ("done", 42)


def test_background_jobs_two_plugins_with_one_name_stop_start_up(portal: Portal) -> None:
    with plugged(portal, SameName()), pytest.raises(ConfigurationError, match=r"mail\.send"):
        contributed_jobs(portal)


def test_background_jobs_a_failing_job_is_retried_later_and_later_and_logged_without_its_text(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with plugged(portal, Doubling()):
        job_id = enqueue(portal, "test.fail")
        huey = job_queue(portal).huey
        task, when = huey.dequeue(), None
        waits = []
        while task is not None:
            started = datetime.now(UTC).replace(tzinfo=None)  # Huey's clock: naive UTC
            huey.execute(task, when)
            assert job_outcome(portal, job_id).state == ("waiting" if len(waits) < 2 else "failed")
            scheduled: list[Any] = huey.scheduled()
            if not scheduled:
                break
            (retry,) = scheduled
            waits.append(round((retry.eta - started).total_seconds()))
            (task,), when = huey.read_schedule(retry.eta), retry.eta
    assert waits == [30, 60]  # [jobs] retry_seconds, then doubled; 2 retries, then it failed
    outcome = job_outcome(portal, job_id)
    assert (outcome.state, outcome.error) == ("failed", "ValueError")
    assert "test.fail" in caplog.text and "ValueError" in caplog.text
    assert "parent@example.org" not in caplog.text
    assert "n'a pas de compte" not in caplog.text
