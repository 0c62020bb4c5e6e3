"""The unit of work: the only door between the services and storage.

Services speak to a :class:`UnitOfWork`, never to SQLAlchemy: the SQL adapter lives in
:mod:`famille_core.persistence`, and an integrator may supply another one.

Queries take equality criteria as keyword arguments, or one of the small criteria below::

    uow.find(Reservation, child_id=In([1, 2]), day=Between(start, end), order_by=("day",))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from attrs import frozen

T = TypeVar("T")


@frozen
class In:
    """Field value is one of ``values``."""

    values: Iterable[Any]


@frozen
class Between:
    """``low <= field <= high`` (both inclusive)."""

    low: Any
    high: Any


@frozen
class Gte:
    """``field >= value``."""

    value: Any


@frozen
class Lte:
    """``field <= value``."""

    value: Any


@frozen
class Not:
    """``field != value`` (``None`` means "is not null")."""

    value: Any


@frozen
class Contains:
    """Case-insensitive substring search on a text field."""

    text: str


@frozen
class Linked:
    """Field value is the ``field`` of an entity of type ``cls`` matching ``criteria`` (the
    same criteria as :meth:`UnitOfWork.find`): the storage looks the link up in the same query,
    e.g. a household's children, ``find(Child, id=Linked(FamilyChild, "child_id",
    {"family_id": 7}))``, instead of reading the links first."""

    cls: type
    field: str
    criteria: dict[str, Any]


class UnitOfWork(Protocol):
    """One business transaction. Changes are kept only by :meth:`commit`.

    Use as a context manager: leaving the block without committing rolls back, and callbacks
    registered with :meth:`after_commit` run only once the commit has succeeded.
    """

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def get(self, cls: type[T], ident: int, *, for_update: bool = False) -> T | None:
        """The entity of type ``cls`` with primary key ``ident``, or ``None``.

        ``for_update`` locks the row until the end of the transaction (PostgreSQL).
        """
        ...

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
        """Entities matching every criterion; ``order_by`` names fields, ``-field`` descending."""
        ...

    def first(self, cls: type[T], *, order_by: Sequence[str] = (), **criteria: Any) -> T | None:
        """The first match, or ``None``."""
        ...

    def count(self, cls: type[Any], **criteria: Any) -> int:
        """How many entities match."""
        ...

    def count_by(
        self, cls: type[Any], group: Sequence[str], **criteria: Any
    ) -> dict[tuple[Any, ...], int]:
        """Counts of matching entities grouped by the ``group`` fields.

        A group field may be a linked entity's, named ``link.field`` where the entity has a
        ``link_id`` field: ``count_by(Reservation, ("activity_id", "child.school"), day=d)``
        counts a day's bookings per activity and school in the database, without loading them.
        """
        ...

    def add(self, entity: object) -> None:
        """Store a new entity (its ``id`` is set at the next flush)."""
        ...

    def add_many(self, entities: Sequence[object]) -> None:
        """Store many new entities of one kind now (an import's households, then their
        guardians): their ids are set on return, their creation events queued as ``add``'s
        would be, and later changes to them are written at the next flush as usual."""
        ...

    def delete(self, entity: object) -> None:
        """Remove an entity."""
        ...

    def flush(self) -> None:
        """Send pending changes to storage without committing (assigns ids)."""
        ...

    def commit(self) -> None:
        """Make the changes permanent, then run the after-commit callbacks."""
        ...

    def rollback(self) -> None:
        """Forget every change since the last commit."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction is committed (used for ``on_*`` hooks)."""
        ...

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if what this unit of work holds now is never committed (rolled back,
        or thrown away when the unit of work closes): used to delete a file written for a change
        that is not kept (docs/architecture.md, "Stored files")."""
        ...

    def lock(self, name: str) -> None:
        """Take a transaction-scoped exclusive lock on ``name`` (serialises capacity checks)."""
        ...


UnitOfWorkFactory = Callable[[], AbstractContextManager[UnitOfWork]]
