"""Upgrading a database that already holds data, from every earlier schema, keeps the data
(docs/security.md point 22): a collectivity that installed any earlier version can move to this one.

Each earlier revision gets its own fresh database (an SQLite file, or a PostgreSQL database created
next to the test database), is filled at that revision, then upgraded to head.
"""

from __future__ import annotations

import json
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


def test_upgrade_keeps_one_pending_payment_per_invoice(fresh_url: str) -> None:
    """Revision 0007 adds a unique index on pending payments: an invoice that holds two (the
    bug of issue 12) keeps the newest pending, the older one expires "without a result", so
    that the reconciliation still asks about it (docs/payment.md, "Late answers")."""
    upgrade_database(fresh_url, "0006_attempt_counter")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO family (id, family_number, name, version) VALUES (1, '1', 'D', 1)")
            )
            connection.execute(
                text(
                    "INSERT INTO invoice (id, family_id, number, reference, regie_code, issue_date,"
                    " due_date, total, paid_amount, status, label, version) VALUES (1, 1, 'F1',"
                    " 'R1', 'default', '2026-11-01', '2026-11-30', 8495, 0, 'open', '', 1)"
                )
            )
            for tid, ref in ((1, "idop-1"), (2, "idop-2")):
                connection.execute(
                    text(
                        "INSERT INTO payment_transaction (id, invoice_id, family_id, provider,"
                        " amount, state, provider_ref, refdet, exer, mode, secret_hash,"
                        " created_at, updated_at, provider_data) VALUES (:id, 1, 1, 'payfip',"
                        " 8495, 'pending', :ref, 'R1', '2026', 'T', 'x', '2026-11-16 08:00:00',"
                        " '2026-11-16 08:00:00', '{\"mel\": \"a@b.fr\"}')"
                    ),
                    {"id": tid, "ref": ref},
                )
        upgrade_database(fresh_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, state, provider_data FROM payment_transaction ORDER BY id")
            ).all()
        states = [(row[0], row[1]) for row in rows]
        assert states == [(1, "expired"), (2, "pending")]
        data = rows[0][2] if isinstance(rows[0][2], dict) else json.loads(rows[0][2])
        assert data == {"mel": "a@b.fr", "reason": "no_result_in_time"}
        assert "secret_hash" not in {c["name"] for c in inspect(engine).get_columns("payment_transaction")}
    finally:
        engine.dispose()
