"""Alembic builds the schema from empty, and the mapped tables agree with the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from famille_core.persistence import alembic_config
from famille_core.persistence.tables import metadata


def test_database_is_at_the_single_head(engine: Engine, database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1, "the migrations have several heads: chain them"
    with engine.connect() as connection:
        assert (
            MigrationContext.configure(connection).get_current_revision()
            == script.get_current_head()
        )


def test_every_table_is_created_by_the_migrations(engine: Engine) -> None:
    created = set(inspect(engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= created


def test_mapped_tables_agree_with_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, metadata)
    assert differences == [], differences
