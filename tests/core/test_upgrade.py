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
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from famille_core.persistence import alembic_config, make_engine, upgrade_database
from famille_core.persistence.tables import metadata

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
EARLIER = [revision.revision for revision in reversed(list(SCRIPTS.walk_revisions()))][:-1]
BEFORE_PROVIDER_DATA = EARLIER[: EARLIER.index("0012_payment_provider_data")]
"""The revisions whose payment rows still hold PayFiP's columns, which 0012 moves."""


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
        moved = {"refdet": "R1", "exer": "2026", "mode": "T"}  # revision 0012
        assert data == {"mel": "a@b.fr", "reason": "no_result_in_time", **moved}
        assert "secret_hash" not in {c["name"] for c in inspect(engine).get_columns("payment_transaction")}
    finally:
        engine.dispose()


def _payment_rows(engine: Engine) -> None:
    """A household, an invoice and two payment transactions as the revision's schema holds
    them (the columns it has: ``secret_hash`` before 0007, ``refdet``/``exer``/``mode`` before
    0012), one of them with a ``provider_data`` key of its own that must win."""
    columns = {c["name"] for c in inspect(engine).get_columns("payment_transaction")}
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO family (id, family_number, name, version) VALUES (1, '1', 'D', 1)")
        )
        connection.execute(
            text(
                "INSERT INTO invoice (id, family_id, number, reference, regie_code, issue_date,"
                " due_date, total, paid_amount, status, label, version) VALUES (1, 1, 'F1',"
                " '2026-CA-11-0001', 'default', '2026-11-01', '2026-11-30', 8495, 0, 'open', '', 1)"
            )
        )
        for tid, state, data in (
            (1, "paid", '{"mel": "a@b.fr", "numauto": "123456"}'),
            (2, "pending", '{"mel": "a@b.fr", "mode": "X"}'),
        ):
            values = {
                "id": tid, "invoice_id": 1, "family_id": 1, "provider": "payfip", "amount": 8495,
                "state": state, "provider_ref": f"idop-{tid}", "created_at": "2026-11-16 08:00:00",
                "updated_at": "2026-11-16 08:00:00", "provider_data": data,
                "refdet": "2026CA110001", "exer": "2026", "mode": "T", "secret_hash": "x",
            }  # fmt: skip
            kept = {name: value for name, value in values.items() if name in columns}
            names = ", ".join(kept)
            connection.execute(
                text(f"INSERT INTO payment_transaction ({names}) VALUES (:{', :'.join(kept)})"),  # noqa: S608 (the test's own column names)
                kept,
            )


def _provider_data(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT provider_data FROM payment_transaction ORDER BY id")
        ).all()
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


@pytest.mark.parametrize("revision", BEFORE_PROVIDER_DATA)
def test_upgrade_carries_every_payment_and_its_payfip_fields_into_provider_data(
    fresh_url: str, revision: str
) -> None:
    """Revision 0012 moves PayFiP's ``refdet``, ``exer`` and ``mode`` columns into the JSON
    ``provider_data`` (payments are provider-neutral, docs/payment.md), from the schema of every
    earlier revision: no row is lost, no value either, a key the row already had wins."""
    upgrade_database(fresh_url, revision)
    engine = make_engine(fresh_url)
    try:
        _payment_rows(engine)
        upgrade_database(fresh_url)
        columns = {c["name"] for c in inspect(engine).get_columns("payment_transaction")}
        assert not {"refdet", "exer", "mode", "secret_hash"} & columns
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, state, provider_ref FROM payment_transaction ORDER BY id")
            ).all()
        assert [tuple(row) for row in rows] == [(1, "paid", "idop-1"), (2, "pending", "idop-2")]
        first, second = _provider_data(engine)
        assert first == {"mel": "a@b.fr", "numauto": "123456", "refdet": "2026CA110001", "exer": "2026", "mode": "T"}
        assert second == {"mel": "a@b.fr", "mode": "X", "refdet": "2026CA110001", "exer": "2026"}
    finally:
        engine.dispose()


def test_a_0007_transaction_keeps_its_payfip_fields_and_the_downgrade_restores_them(
    fresh_url: str,
) -> None:
    """A transaction written at 0007: its ``refdet``/``exer``/``mode`` arrive in
    ``provider_data`` at 0012, and the downgrade to the revision before puts them back in their
    columns."""
    upgrade_database(fresh_url, "0007_payment_safety")
    engine = make_engine(fresh_url)
    try:
        _payment_rows(engine)
        upgrade_database(fresh_url, "0012_payment_provider_data")
        assert _provider_data(engine)[0] == {
            "mel": "a@b.fr", "numauto": "123456", "refdet": "2026CA110001", "exer": "2026", "mode": "T",
        }  # fmt: skip
        command.downgrade(alembic_config(fresh_url), "0011_webhooks")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT refdet, exer, mode FROM payment_transaction ORDER BY id")
            ).all()
        assert [tuple(row) for row in rows] == [("2026CA110001", "2026", "T"), ("2026CA110001", "2026", "X")]
        assert _provider_data(engine)[0] == {"mel": "a@b.fr", "numauto": "123456"}
    finally:
        engine.dispose()


def test_an_absence_from_the_first_schema_reaches_head_and_takes_attendance_and_a_justificatif(
    fresh_url: str,
) -> None:
    """An absence written at the first revision is carried through every revision; at 0015
    (issue 15) a pointage and a justificatif attach to it, and the downgrade before 0015 drops
    only the new tables."""
    first = EARLIER[0]
    upgrade_database(fresh_url, first)
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as connection:
            for statement in (
                "INSERT INTO family (id, family_number, name, version) VALUES (1, '1187', 'DUPONT', 1)",
                "INSERT INTO child (id, first_name, last_name, sex, school, class_level, version)"
                " VALUES (1, 'Emma', 'DUPONT', 'F', '', 'CP', 1)",
                "INSERT INTO activity (id, code, label, service, weekdays, policy, unit_price, active)"
                " VALUES (1, 'CANTINE', 'Restauration scolaire', 'ENFANCE', '0,1,3,4', 'auto', 395, true)",
                "INSERT INTO absence (id, child_id, activity_id, family_id, day, reason_code, reason_label,"
                " billable, comment, created_at) VALUES (1, 1, 1, 1, '2026-11-13', 'MEDICAL',"
                " 'RAISON MEDICALE', false, '', '2026-11-12 08:00:00')",
            ):
                connection.execute(text(statement))
        upgrade_database(fresh_url)
        with engine.begin() as connection:
            absence = connection.execute(text("SELECT day, reason_code, billable FROM absence")).one()
            assert (str(absence[0]), absence[1], bool(absence[2])) == ("2026-11-13", "MEDICAL", False)
            connection.execute(
                text(
                    "INSERT INTO supporting_document (absence_id, family_id, filename, content_type, size,"
                    " storage_key, state, uploaded_at, refusal_reason, version) VALUES (1, 1, 'certificat.pdf',"
                    " 'application/pdf', 10, 'justificatifs/k', 'pending', '2026-11-13 09:00:00', '', 1)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO attendance (child_id, activity_id, family_id, day, present, unexpected,"
                    " marked_at, version) VALUES (1, 1, 1, '2026-11-12', true, false, '2026-11-12 12:00:00', 1)"
                )
            )
        command.downgrade(alembic_config(fresh_url), "0014_reservation_day_index")
        names = set(inspect(engine).get_table_names())
        assert not {"attendance", "attendance_mark", "supporting_document"} & names
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM absence")).scalar() == 1
    finally:
        engine.dispose()
