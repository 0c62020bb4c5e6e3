"""Upgrading a database that already holds data, from every earlier schema, keeps the data
(security.md point 22): a collectivity that installed any earlier version can move to this one.

Each earlier revision gets its own fresh database (an SQLite file, or a PostgreSQL database created
next to the test database), is filled at that revision, then upgraded to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from famille_core.persistence import alembic_config, make_engine, upgrade_database
from famille_core.persistence.tables import metadata

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
EARLIER = [revision.revision for revision in reversed(list(SCRIPTS.walk_revisions()))][:-1]


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite'}"
        return
    name = f"famille_upgrade_{uuid4().hex[:12]}"
    server = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrade_from_an_earlier_schema_keeps_the_families(fresh_url: str, revision: str) -> None:
    upgrade_database(fresh_url, revision)
    engine = make_engine(fresh_url)
    try:
        assert _current(engine) == revision
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO family (family_number, name, version)"
                    " VALUES ('1187', 'DUPONT', 1), ('2001', 'MARTIN', 1)"
                )
            )
        upgrade_database(fresh_url)
        assert _current(engine) == SCRIPTS.get_current_head()
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT family_number, name FROM family ORDER BY family_number")
            ).all()
        assert [tuple(row) for row in rows] == [("1187", "DUPONT"), ("2001", "MARTIN")]
        assert {table.name for table in metadata.sorted_tables} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_there_is_an_earlier_schema_to_upgrade_from() -> None:
    assert EARLIER, "no earlier revision: the upgrade test would test nothing"
