"""Rows written in bulk, outside the ORM's flush (an import's households, guardians and
events: docs/deployment.md, "Fast pages")."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def copy_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``rows`` by one ``COPY table … FROM STDIN`` in the session's transaction, in
    their order (a sequence gives the ids in it). psycopg streams the rows; its executemany
    costs about four times the CPU, an ``INSERT … SELECT FROM unnest(arrays)`` more than that
    (20,000 events, 10,000 households and 10,000 guardians in a 10,000-family import:
    bench/README.md). Values are bound as SQLAlchemy binds them (dates in UTC, enumerations as
    text, JSON by the dialect's serializer); a text too long for its column is refused, never
    cut. A failure is raised as SQLAlchemy's error for it (so a unit of work translates it as
    any other) with the first line of PostgreSQL's message only: the rest quotes the row
    (docs/security.md point 38)."""
    import psycopg  # PostgreSQL only: SQLite processes never load the driver

    connection = session.connection()
    dialect = connection.dialect
    columns = [table.c[name] for name in rows[0]]
    bind = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [row[c.key] if p is None else p(row[c.key]) for c, p in zip(columns, bind, strict=True)]
                )
    except psycopg.Error as exc:
        exc.args = ((str(exc).splitlines() or [type(exc).__name__])[0],)
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, hide_parameters=True) from None
