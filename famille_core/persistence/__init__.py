"""SQL storage for the core (extra ``sql``): tables, imperative mapping, Alembic migrations and
the SQLAlchemy unit of work.

    from famille_core.persistence import build_sql_portal, upgrade_database
    upgrade_database(url)             # Alembic, to the newest schema
    portal = build_sql_portal(settings, url)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from famille_core.clock import Clock
from famille_core.persistence import events, page_versions
from famille_core.persistence.mapping import map_entities
from famille_core.persistence.tables import metadata
from famille_core.persistence.uow import SqlUnitOfWork
from famille_core.portal import Portal, build_portal
from famille_core.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(settings: Settings, instance_path: Path | str) -> str:
    """The database to use: ``FAMILLE_DATABASE_URL``, else the configuration, else an SQLite
    file in the instance folder."""
    url = os.environ.get("FAMILLE_DATABASE_URL") or settings.portal.database_url
    if url:
        return url
    folder = Path(instance_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'famille.sqlite'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Readers are not stopped by a writer and a commit writes its pages once (docs/deployment.md,
    # "A single town"); an in-memory database answers "memory" and stays as it is.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _without_row_values(context: Any) -> None:
    """Keep row values out of database errors, hence out of logs (docs/security.md point 38).

    ``hide_parameters`` keeps SQLAlchemy from printing a statement's parameters, but PostgreSQL
    itself repeats values in the error's DETAIL ("Failing row contains (…, allergy, …)", "Key
    (number)=(…) already exists") and CONTEXT lines: only the first line, the primary message
    naming the constraint or the column, is kept. The diagnostic fields (``sqlstate``…) stay.
    """
    wrapped = context.sqlalchemy_exception
    if not isinstance(wrapped, DBAPIError):
        return  # not the driver's error (a Python error in a type processor…): left as it is
    for error in (context.original_exception, wrapped):
        if error is not None and error.args and isinstance(error.args[0], str):
            error.args = (_first_lines(error.args[0]), *error.args[1:])


def _first_lines(message: str) -> str:
    """``message`` without the lines PostgreSQL adds after the primary message."""
    return "\n".join(
        line for line in message.splitlines() if not line.startswith(SERVER_DETAIL_LINES)
    )


SERVER_DETAIL_LINES = ("DETAIL:", "HINT:", "CONTEXT:", "LINE ", "QUERY:", "WHERE:", " ")


def make_engine(url: str, **options: Any) -> Engine:
    """An engine with the project's settings: statement parameters never shown in errors,
    connections checked before use (a restarted database costs no failed request), foreign
    keys, a busy timeout and the write-ahead log on SQLite."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options.setdefault("hide_parameters", True)
    options.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **options)
    event.listen(engine, "handle_error", _without_row_values)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for the units of work (objects stay readable after commit)."""
    map_entities()
    factory = sessionmaker(engine, expire_on_commit=False)
    page_versions.install(factory)  # first: its bumps come before the event feed's lock
    events.install(factory)
    return factory


def build_sql_portal(
    settings: Settings,
    engine: Engine | str,
    *,
    clock: Clock | None = None,
    extra_plugins: Iterable[object] = (),
    instance_path: Path | str = "instance",
) -> Portal:
    """A :class:`~famille_core.Portal` stored in the database ``engine`` (an engine or a URL)."""
    if isinstance(engine, str):
        engine = make_engine(engine)
    factory = session_factory(engine)
    portal = build_portal(
        settings,
        uow_factory=lambda: SqlUnitOfWork(factory),
        clock=clock,
        extra_plugins=extra_plugins,
        instance_path=instance_path,
    )
    portal.storage = engine
    events.configure(
        factory,
        [policy for policies in portal.hook.domain_event_policies(portal=portal) for policy in policies],
        portal.clock,
    )
    return portal


def alembic_config(url: str) -> Any:
    """An Alembic configuration pointing at the shipped migrations and ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` (Alembic ``upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


__all__ = [
    "SqlUnitOfWork",
    "alembic_config",
    "build_sql_portal",
    "database_url",
    "make_engine",
    "metadata",
    "session_factory",
    "upgrade_database",
]
