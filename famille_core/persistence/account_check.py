"""The read a web host makes on every logged-in request: the few columns of the account that
decide whether its session is still valid and who the request acts as (docs/deployment.md,
"Fast pages").

The session's revocation check (the account still active, the session's nonce unchanged) must
see every change at once, in every process, so it is never cached: it is one ``SELECT`` by
primary key per request. What is cached is everything around it: the statement is compiled
once per process, and it runs straight on a driver cursor of a small connection pool of its own,
in autocommit mode and without the pre-ping of the portal's pool, so that on PostgreSQL it is
one round trip (no ``BEGIN``, ``ROLLBACK`` or ping), with no unit of work, ORM session or identity
map. When the database dropped a connection (a restart), every connection of that small pool
is discarded, since all of them were opened before the restart, and the read is made again once
on a fresh one.

The same statement reads the household's page versions (famille_core/persistence/page_versions.py)
for the page cache: read before any of the page's data, as the cache needs, and at no extra round
trip. The row is :class:`AccountState`; :data:`STATEMENT`'s columns and :func:`_state` are the one
place to add a column the host wants checked with the session (keep them in step).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlalchemy.sql.elements import ColumnClause

from famille_core.entities import Role, User
from famille_core.persistence.page_versions import GLOBAL
from famille_core.persistence.tables import family, portal_version, user_account


class AccountState(NamedTuple):
    """What a request needs of its logged-in account, read fresh on every request."""

    id: int
    session_nonce: str
    is_active: bool
    role: Role
    family_id: int | None
    service: str | None
    display_name: str
    has_second_factor: bool
    """True when the account enrolled a second factor (the secret itself is never kept)."""
    versions: tuple[int, int] | None = None
    """The household's page version and the global one, read with the account (``None`` when
    read through a unit of work): host_flask/page_cache.py's stamp."""

    @property
    def is_agent(self) -> bool:
        """True for municipal staff (agents and administrators)."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @classmethod
    def of(cls, user: User) -> AccountState:
        """The state of an account loaded through a unit of work (portals without SQL storage)."""
        assert user.id is not None
        return cls(
            id=user.id,
            session_nonce=user.session_nonce,
            is_active=user.is_active,
            role=user.role,
            family_id=user.family_id,
            service=user.service,
            display_name=user.display_name,
            has_second_factor=bool(user.totp_secret),
        )


_t = user_account.c
_HOUSEHOLD_VERSION = (
    select(family.c.data_version).where(family.c.id == _t.family_id).scalar_subquery()
)
_GLOBAL_VERSION = (
    select(portal_version.c.version)
    .where(portal_version.c.name == literal_column(f"'{GLOBAL}'"))
    .scalar_subquery()
)
_ZERO: ColumnClause[int] = literal_column("0")  # literals: the statement's only parameter is the account's id
STATEMENT = select(
    _t.session_nonce,
    _t.is_active,
    _t.role,
    _t.family_id,
    _t.service,
    _t.display_name,
    _t.totp_secret,
    func.coalesce(_HOUSEHOLD_VERSION, _ZERO),
    func.coalesce(_GLOBAL_VERSION, _ZERO),
).where(_t.id == bindparam("user_id"))


def _state(user_id: int, row: Sequence[Any]) -> AccountState:
    return AccountState(
        user_id,
        row[0],
        bool(row[1]),
        Role(row[2]),
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        (int(row[7]), int(row[8])),
    )


class AccountReader:
    """Reads :class:`AccountState` rows for one portal's database (one per engine and process:
    :func:`account_reader`)."""

    def __init__(self, engine: Engine) -> None:
        self._source = engine
        self._engine: Engine | None = None
        self._pid = 0
        self._lock = threading.Lock()
        compiled = STATEMENT.compile(dialect=engine.dialect)
        self._sql = str(compiled)
        self._positional = compiled.positiontup is not None
        self.reads = 0
        """How many reads this process made (the benches count them with the SQL statements)."""

    def _lean_engine(self) -> Engine:
        """This process's engine for the reads: autocommit, no pre-ping (a dropped connection is
        retried instead). A forked process builds its own, never reusing its parent's sockets;
        an in-memory SQLite database, which a second engine would not see, uses the portal's."""
        engine = self._engine
        if engine is not None and self._pid == os.getpid():
            return engine
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                if self._engine is not None:
                    self._engine.dispose(close=False)  # the parent's connections stay its own
                self._engine = self._build()
                self._pid = os.getpid()
            return self._engine

    def _build(self) -> Engine:
        source = self._source
        if isinstance(source.pool, StaticPool | SingletonThreadPool):
            return source
        from famille_core.persistence import make_engine

        url = source.url.render_as_string(hide_password=False)
        # Autocommit and nothing but this SELECT: no transaction is ever left to roll back when
        # a connection goes back to the pool.
        return make_engine(
            url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_reset_on_return=None
        )

    def _parameters(self, user_id: int) -> Sequence[Any] | Mapping[str, Any]:
        return (user_id,) if self._positional else {"user_id": user_id}

    def read(self, user_id: int) -> AccountState | None:
        """The account ``user_id``'s state, ``None`` when there is no such account.

        Database errors are raised as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`, without
        the statement's parameters, as the portal's other statements raise them."""
        self.reads += 1
        engine = self._lean_engine()
        dialect = engine.dialect
        dbapi_error = dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            connection: Any = None
            cursor: Any = None
            try:
                connection = engine.raw_connection()
                cursor = connection.cursor()
                cursor.execute(self._sql, self._parameters(user_id))
                row = cursor.fetchone()
                cursor.close()
            except dbapi_error as exc:
                dropped = connection is not None and dialect.is_disconnect(
                    exc, connection.dbapi_connection, cursor
                )
                if dropped:
                    connection.invalidate(exc)
                    if engine is not self._source:
                        # A restart dropped every connection opened before it: the pool's
                        # others are stale too and would each fail one more read.
                        engine.dispose()
                    if attempt == 1:
                        continue  # the database restarted: a fresh connection, once
                raise DBAPIError.instance(
                    self._sql,
                    None,
                    exc,
                    dbapi_error,
                    hide_parameters=True,
                    connection_invalidated=dropped,
                    dialect=dialect,
                ) from exc
            finally:
                if connection is not None:
                    connection.close()  # back to the pool (or gone, when invalidated)
            return None if row is None else _state(user_id, row)
        raise AssertionError("unreachable")  # pragma: no cover


_READERS: WeakKeyDictionary[Engine, AccountReader] = WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def account_reader(engine: Engine) -> AccountReader:
    """The process's reader for ``engine`` (every app built on one engine shares it, and with it
    its connections)."""
    with _READERS_LOCK:
        reader = _READERS.get(engine)
        if reader is None:
            reader = _READERS[engine] = AccountReader(engine)
        return reader
