"""The task queue's settings and the core's own jobs: where jobs wait ([jobs] storage, the
FAMILLE_JOBS_STORAGE override, the embedded SQLite file by default), the nightly retention purge
run by the worker's scheduler, and a long import enqueued with its per-line report kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from famille_core import ConfigurationError, Portal, settings_from_mapping
from famille_core.entities import Family, HealthRecord
from famille_core.jobs import due_jobs, enqueue, job_outcome, storage_url
from famille_core.services.imports import ImportReport
from tests.hooks.test_privacy_hooks import _left_long_ago
from tests.jobs_helpers import run_queued


def test_jobs_wait_in_the_instance_folder_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMILLE_JOBS_STORAGE", raising=False)
    default = settings_from_mapping({})
    assert storage_url(default, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'jobs.db'}"
    redis = settings_from_mapping({"jobs": {"storage": "redis://127.0.0.1:6379/4"}})
    assert storage_url(redis, tmp_path) == "redis://127.0.0.1:6379/4"
    monkeypatch.setenv("FAMILLE_JOBS_STORAGE", "postgresql://portail@db/famille")
    assert storage_url(redis, tmp_path) == "postgresql://portail@db/famille"


def test_a_bad_jobs_setting_stops_start_up_with_its_key() -> None:
    with pytest.raises(ConfigurationError, match=r"jobs.*name"):
        settings_from_mapping({"jobs": {"name": "a name with spaces"}})
    with pytest.raises(ConfigurationError, match=r"mail.*delivery"):
        settings_from_mapping({"mail": {"delivery": "pigeon"}})


def test_an_unknown_storage_is_refused_without_its_password(portal: Portal) -> None:
    import attrs

    jobs = attrs.evolve(portal.settings.jobs, storage="mysql://user:secret@db/jobs")
    portal.settings = attrs.evolve(portal.settings, jobs=jobs)
    with pytest.raises(ConfigurationError) as refused:
        enqueue(portal, "mail.send")
    assert "mysql://user:***@db/jobs" in refused.value.message
    assert "secret" not in refused.value.message


def test_the_worker_purges_health_records_past_retention_every_night(portal: Portal) -> None:
    child_id = _left_long_ago(portal)
    night = portal.clock.now().replace(hour=3, minute=30, second=0, microsecond=0)
    assert due_jobs(portal, night - timedelta(minutes=1)) == ["mail.send", "webhooks.deliver"]
    run_queued(portal, night - timedelta(minutes=1))
    with portal.unit_of_work() as uow:
        assert uow.count(HealthRecord, child_id=child_id) == 1  # not its time yet
    assert "retention.purge" in due_jobs(portal, night)  # 03:30 in Paris
    run_queued(portal, night)
    with portal.unit_of_work() as uow:
        assert uow.count(HealthRecord, child_id=child_id) == 0


def test_a_long_import_runs_in_the_queue_and_keeps_its_per_line_report(portal: Portal) -> None:
    text = (
        "external_id,family_number,name,responsable.last_name,responsable.first_name\n"
        "ERP-1,1001,LEROY,LEROY,Anne\n"
        "ERP-2,,GIRARD,GIRARD,Luc\n"
    )
    job_id = enqueue(portal, "imports.run", kind="families", text=text, fmt="csv")
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 0  # enqueued only
    run_queued(portal)
    outcome = job_outcome(portal, job_id)
    assert outcome.state == "done" and isinstance(outcome.result, ImportReport)
    assert outcome.result.counts["created"] == 1 and outcome.result.counts["rejected"] == 1
    (error,) = outcome.result.errors
    assert (error.line, error.field) == (3, "family_number")
    assert job_outcome(portal, job_id).state == "done"  # read again: the report is kept
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 1


@pytest.mark.postgres
def test_a_town_with_postgresql_only_keeps_its_jobs_in_it(
    portal: Portal, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, text

    monkeypatch.setenv("FAMILLE_JOBS_STORAGE", database_url)
    job_id = enqueue(portal, "imports.run", kind="families", text="family_number,name\n", fmt="csv")
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            waiting = connection.execute(text("SELECT count(*) FROM famille_jobs_task")).scalar()
        assert waiting == 1  # in PostgreSQL, where any worker finds it
        run_queued(portal)
        assert job_outcome(portal, job_id).state == "done"
    finally:
        with engine.begin() as connection:
            for table in ("kv", "schedule", "task", "counter"):
                connection.execute(text(f"DROP TABLE IF EXISTS famille_jobs_{table}"))
        engine.dispose()
