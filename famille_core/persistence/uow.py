"""The SQLAlchemy implementation of :class:`famille_core.uow.UnitOfWork`."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from famille_core.errors import Conflict, ValidationFailed
from famille_core.persistence import bulk, events, page_versions
from famille_core.persistence.tables import named_lock
from famille_core.uow import Between, Contains, Gte, In, Linked, Lte, Not

T = TypeVar("T")

log = logging.getLogger(__name__)

CHANGED_MEANWHILE = "Cette fiche a été modifiée entre-temps."
ALREADY_EXISTS = "Cet élément existe déjà (demande envoyée deux fois ?) : rien n'a été modifié."
RACED = (
    "Une autre demande modifiait les mêmes données au même moment : rien n'a été enregistré. "
    "Réessayez."
)

LOST_RACE_STATES = {"40001", "40P01", "55P03"}
"""PostgreSQL's serialization_failure, deadlock_detected and lock_not_available: the database
gave up one transaction so that others could go on; nothing it did is kept."""


VALUE_REFUSED = (
    "Une valeur dépasse ce que la base de données accepte (texte trop long ou nombre trop "
    "grand) : rien n'a été enregistré."
)


def _value_refused(exc: DBAPIError) -> bool:
    """True when the database refused a value (PostgreSQL's class 22, "data exception": a text
    longer than its column, a number out of range); SQLite stores such values as they are."""
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("22")


def _lost_race(exc: DBAPIError) -> bool:
    """True when the database refused ``exc``'s transaction because of a concurrent one."""
    if getattr(exc.orig, "sqlstate", None) in LOST_RACE_STATES:
        return True
    return "database is locked" in str(exc.orig)  # SQLite, after its busy timeout


def _is_unique_violation(exc: IntegrityError) -> bool:
    """True when ``exc`` breaks a unique constraint (not a foreign key or a NOT NULL)."""
    if getattr(exc.orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(exc.orig)  # SQLite


def _condition(column: Any, value: Any) -> Any:
    if isinstance(value, In):
        return column.in_(list(value.values))
    if isinstance(value, Between):
        return column.between(value.low, value.high)
    if isinstance(value, Gte):
        return column >= value.value
    if isinstance(value, Lte):
        return column <= value.value
    if isinstance(value, Not):
        return column.is_not(None) if value.value is None else column != value.value
    if isinstance(value, Contains):
        return func.lower(column).contains(value.text.lower(), autoescape=True)
    if isinstance(value, Linked):
        linked = select(getattr(value.cls, value.field))
        for name, criterion in value.criteria.items():
            linked = linked.where(_condition(getattr(value.cls, name), criterion))
        return column.in_(linked)
    if value is None:
        return column.is_(None)
    return column == value


def _linked_class(cls: type[Any], link: str) -> type[Any]:
    """The entity that ``cls.<link>_id`` points to (through its foreign key)."""
    mapper = sa_inspect(cls)
    (key,) = mapper.local_table.c[f"{link}_id"].foreign_keys
    for candidate in mapper.registry.mappers:
        if candidate.local_table is key.column.table:
            return candidate.class_
    raise LookupError(f"{cls.__name__}.{link}_id points to no mapped entity")


class SqlUnitOfWork:
    """A unit of work over one SQLAlchemy :class:`~sqlalchemy.orm.Session`."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self.session: Session = session_factory()
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []

    def __enter__(self) -> SqlUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        # Uncommitted work is always thrown away (closing the session rolls the database
        # transaction back). An explicit rollback is only needed when the unit failed or holds
        # unflushed changes: it would also expire every object read, and the views that read an
        # invoice or a child in a unit of work and render it afterwards need them readable.
        try:
            session = self.session
            if exc[0] is not None or session.new or session.dirty or session.deleted:
                self.rollback()
        finally:
            self._after_commit.clear()
            self.session.close()
            self._run_after_rollback()  # closing threw away whatever was not committed

    def _select(self, cls: type[T], criteria: dict[str, Any], order_by: Sequence[str]) -> Any:
        statement = select(cls)
        for name, value in criteria.items():
            statement = statement.where(_condition(getattr(cls, name), value))
        for name in order_by:
            column = getattr(cls, name.lstrip("-"))
            statement = statement.order_by(column.desc() if name.startswith("-") else column)
        return statement

    def get(self, cls: type[T], ident: int, *, for_update: bool = False) -> T | None:
        with self._translated_errors():
            return self.session.get(cls, ident, with_for_update=for_update or None)

    def find(
        self,
        cls: type[T],
        *,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
        for_update: bool = False,
        **criteria: Any,
    ) -> list[T]:
        statement = self._select(cls, criteria, order_by)
        if limit is not None:
            statement = statement.limit(limit)
        if offset:
            statement = statement.offset(offset)
        if for_update:
            statement = statement.with_for_update()
        with self._translated_errors():
            return list(self.session.scalars(statement))

    def first(self, cls: type[T], *, order_by: Sequence[str] = (), **criteria: Any) -> T | None:
        found = self.find(cls, order_by=order_by or ("id",), limit=1, **criteria)
        return found[0] if found else None

    def count(self, cls: type[Any], **criteria: Any) -> int:
        statement = select(func.count()).select_from(cls)
        for name, value in criteria.items():
            statement = statement.where(_condition(getattr(cls, name), value))
        with self._translated_errors():
            return int(self.session.scalar(statement) or 0)

    def count_by(
        self, cls: type[Any], group: Sequence[str], **criteria: Any
    ) -> dict[tuple[Any, ...], int]:
        columns, joined = [], {}
        for name in group:
            link, _dot, field_name = name.rpartition(".")
            if link and link not in joined:
                joined[link] = _linked_class(cls, link)
            columns.append(getattr(joined[link], field_name) if link else getattr(cls, name))
        statement = select(*columns, func.count()).group_by(*columns)
        if joined:
            statement = statement.select_from(cls)
            for link, target in joined.items():
                statement = statement.join(target, getattr(cls, f"{link}_id") == target.id)
        for name, value in criteria.items():
            statement = statement.where(_condition(getattr(cls, name), value))
        with self._translated_errors():
            rows = list(self.session.execute(statement))
        return {tuple(row[:-1]): int(row[-1]) for row in rows}

    def add(self, entity: object) -> None:
        self.session.add(entity)

    def add_many(self, entities: Sequence[object]) -> None:
        """The one place where new records are written with Core rather than the ORM's flush
        (an import's households and guardians: ``famille_core.services.sync``): one statement
        for the table — on PostgreSQL a ``COPY`` (:func:`~famille_core.persistence.bulk.copy_rows`)
        with the ids drawn beforehand from the sequence in one query (RETURNING over thousands
        of rows costs more in the driver than the insert), on SQLite an INSERT returning the ids
        in the rows' order. The entities then join the session as if they
        had been flushed, and their creation events are queued as the flush would
        (:mod:`famille_core.persistence.events`); the page versions they change are noted as
        the flush would too (:func:`~famille_core.persistence.page_versions.note_new`: a new
        household's guardians bump it, a new household alone bumps nothing), on every
        database."""
        if not entities:
            return
        cls = type(entities[0])
        mapper = sa_inspect(cls)
        table = mapper.local_table
        version = mapper.version_id_col
        columns = [(prop.key, prop.columns[0].key) for prop in mapper.column_attrs]
        rows: list[dict[str, Any]] = []
        for entity in entities:
            if type(entity) is not cls or getattr(entity, "id", None) is not None:
                raise ValueError("add_many takes new entities of one class")
            if version is not None:
                entity.version = 1  # type: ignore[attr-defined]  # as the ORM's first INSERT
            rows.append({column: getattr(entity, key) for key, column in columns if key != "id"})
        with self._translated_errors():
            self.session.flush()  # what is pending goes first, as it would in one flush
            page_versions.note_new(self.session, entities)
            noted = {page_versions.NOTED: True}
            dialect = self.session.get_bind().dialect
            if dialect.name == "postgresql":
                ids = self.session.scalars(
                    text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                    {"table": table.name, "n": len(rows)},
                ).all()
                for row, ident in zip(rows, ids, strict=True):
                    row["id"] = ident
                bulk.copy_rows(self.session, table, rows)  # noted: no hook sees a COPY
            else:
                statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
                ids = self.session.execute(statement, rows, execution_options=noted).scalars().all()
        for entity, ident in zip(entities, ids, strict=True):
            entity.id = ident  # type: ignore[attr-defined]
            make_transient_to_detached(entity)
            self.session.add(entity)
        events.queue_created(self.session, entities)

    def delete(self, entity: object) -> None:
        self.session.delete(entity)

    def _translate(self, exc: Exception) -> Exception:
        """Roll back and turn a lost race into :class:`Conflict`; other errors stay as they are."""
        self.rollback()
        if isinstance(exc, StaleDataError):
            return Conflict(CHANGED_MEANWHILE)
        if isinstance(exc, IntegrityError) and _is_unique_violation(exc):
            return Conflict(ALREADY_EXISTS)
        if isinstance(exc, DBAPIError) and _lost_race(exc):
            return Conflict(RACED)
        if isinstance(exc, DBAPIError) and _value_refused(exc):
            return ValidationFailed.single("value_refused", VALUE_REFUSED)
        return exc

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """A statement that lost a race (a unique key taken meanwhile, a stale version, a
        deadlock or serialization failure — on any statement, autoflush included) rolls the
        unit back and raises :class:`Conflict` with a French message; a value the database
        refuses (a text too long for its column) raises :class:`ValidationFailed`. Never a
        server error: the service that should have checked it is still at fault, but the person
        gets a message and nothing is written."""
        try:
            yield
        except (StaleDataError, DBAPIError) as exc:
            other = isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError)
            if other and not (_lost_race(exc) or _value_refused(exc)):  # type: ignore[arg-type]
                raise  # a real failure: the host's error page rolls back and logs it
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    def flush(self) -> None:
        with self._translated_errors():
            self.session.flush()

    def commit(self) -> None:
        with self._translated_errors():
            self.session.commit()
        self._after_rollback.clear()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            # The change is committed: a failing notification (e-mail server down, a plugin's
            # bug) is logged, never turned into an error for the person who made the change.
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed", extra={"callback": getattr(callback, "__qualname__", "?")})

    def rollback(self) -> None:
        self.session.rollback()
        self._after_commit.clear()
        self._run_after_rollback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def after_rollback(self, callback: Callable[[], None]) -> None:
        self._after_rollback.append(callback)

    def _run_after_rollback(self) -> None:
        callbacks, self._after_rollback = self._after_rollback, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-rollback callback failed")

    def lock(self, name: str) -> None:
        with self._translated_errors():
            self._lock(name)

    def _lock(self, name: str) -> None:
        bind = self.session.get_bind()
        if bind.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            self.session.execute(select(func.pg_advisory_xact_lock(key)))
            return
        # Elsewhere: write to a row, which takes the database's write lock until commit (on
        # SQLite one statement creates or bumps the row).
        if bind.dialect.name == "sqlite":
            self.session.execute(
                sqlite_insert(named_lock)
                .values(name=name, counter=1)
                .on_conflict_do_update(
                    index_elements=[named_lock.c.name], set_={"counter": named_lock.c.counter + 1}
                )
            )
            return
        self.session.execute(
            update(named_lock)
            .where(named_lock.c.name == name)
            .values(counter=named_lock.c.counter + 1)
        )

