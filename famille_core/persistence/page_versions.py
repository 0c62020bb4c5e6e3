"""Data versions for the fast pages: one per household (``family.data_version``) and one for
what belongs to no household (``portal_version`` row ``pages``), bumped in the same
transaction as every change a family's page may show.

A rendered page is cached under the versions read *before* its data (host_flask/page_cache.py):
once a change is committed its version is too, so the next view misses and renders afresh, on
every worker of every host (docs/deployment.md, "Fast pages").

Generic, like the event feed next door (:mod:`famille_core.persistence.events`): a
``before_flush`` listener maps each new, changed or deleted object to its household(s) — a
``family_id``, a child's households through ``family_child``, an invoice line's invoice, an
attendance mark's attendance, a reset token's account — and whatever it cannot map bumps the
global version (the safe default). Only :data:`NEUTRAL` entities, which no family page shows and
which are written often, bump nothing. A Core statement run through the session
(``session.execute(insert(...))``, an ERP import's bulk writes) is caught by ``do_orm_execute``:
rows of a table with a ``family_id`` bump those households, anything else the global version. A
write on a bare connection (``engine.begin()``, ``bench/city.py``) calls :func:`bump` itself.

Locks: the versions are bumped just before the commit, after the last flush, households in
ascending id order then the global row, and *before* the event feed's advisory lock, which stays
the last lock a transaction takes (docs/architecture.md). A household's writes are serialised
during their commits only; the global row is bumped by rare changes only (an activity, a group
message), never by a booking, a payment or a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Integer, any_, bindparam, event, inspect, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session

from famille_core import entities as e
from famille_core.persistence.tables import family, family_child, portal_version

GLOBAL = "pages"
"""The ``portal_version`` row of everything that belongs to no household."""

FAMILIES = "famille_pages_families"
"""``session.info`` key: the households whose version this transaction bumps at commit."""

EVERYTHING = "famille_pages_global"
"""``session.info`` key: true when this transaction bumps the global version at commit."""

BUMPING = "famille_pages_bump"
"""Execution option of the bumps themselves (not a change to map)."""

NOTED = "famille_pages_noted"
"""Execution option of a Core write whose households were noted already (:func:`note_new`)."""

BUMP_CHUNK = 500
"""Households bumped by one statement on SQLite (below its limit of bound parameters)."""

NEUTRAL: frozenset[type] = frozenset(
    {
        e.AuditRecord,  # who read or changed what: agents' pages only
        e.DomainEvent,  # the ERP's feed: written with every change, would serialise everything
        e.OutgoingEmail,  # the mail queue, and its senders' claims
        e.ApiClient,  # an ERP's token (``last_used_at`` on every call)
        e.WebhookSubscription,  # the webhook sender's cursor and claims
        e.WebhookDelivery,  # the delivery log
    }
)
"""Entities no family page shows, often written: they bump no version. (Sessions keep their
last activity in the cookie; login and secret attempt counters live in ``attempt_counter`` or
Redis, and ``named_lock`` only serialises: none of them is an entity.)"""

NEUTRAL_TABLES = frozenset(
    {
        "audit_record",
        "domain_event",
        "outgoing_email",
        "api_client",
        "webhook_subscription",
        "webhook_delivery",
        "named_lock",
        "attempt_counter",
        "portal_version",
    }
)
"""The same, as tables, for Core statements (plus the lock and counter tables)."""

CHILD_LINKED = (e.Child, e.ChildDetails, e.HealthRecord)
"""Entities of a child, shown by every household the child belongs to."""


def _values(obj: Any, name: str) -> set[Any]:
    """The current and, if it changed in this flush, the former value of ``obj.<name>``."""
    found = {getattr(obj, name, None)}
    state = inspect(obj)
    if state.persistent or state.deleted:
        found.update(state.attrs[name].history.deleted or ())
    found.discard(None)
    return found


class _Pending:
    """What the flush about to run changes, by household (collected, then resolved)."""

    def __init__(self) -> None:
        self.families: set[int] = set()
        self.children: set[int] = set()
        self.everything = False

    def add(self, session: Session, obj: Any) -> None:
        cls = type(obj)
        if cls in NEUTRAL:
            return
        if cls is e.Family:
            if obj.id is not None:
                self.families.add(obj.id)
            return  # a new household: nobody has seen its pages yet
        if cls is e.User:
            self._user(obj)
            return
        if cls is e.Child:
            if obj.id is not None:
                self.children.add(obj.id)
            return  # a new child reaches a household through its new FamilyChild
        if cls in (e.ChildDetails, e.HealthRecord):
            self.children.update(_values(obj, "child_id"))
            return
        if cls is e.InvoiceLine:
            self._through(session, e.Invoice, _values(obj, "invoice_id"))
            return
        if cls is e.AttendanceMark:
            self._through(session, e.Attendance, _values(obj, "attendance_id"))
            return
        if cls is e.PasswordResetToken:
            self._through(session, e.User, _values(obj, "user_id"))
            return
        if hasattr(obj, "family_id"):
            families = _values(obj, "family_id")
            if families:
                self.families.update(families)
                return
        self.everything = True  # no known household: the safe default

    def _user(self, user: e.User) -> None:
        families = _values(user, "family_id")
        self.families.update(families)
        if not families and inspect(user).attrs["role"].history.has_changes():
            # an account becoming or leaving the agents' roles changes what a household's
            # Agenda says was "done by the town"
            self.everything = True

    def _through(self, session: Session, cls: type, ids: set[Any]) -> None:
        """The households of the ``cls`` rows ``ids`` (from the session, else one query)."""
        for ident in ids:
            parent = session.get(cls, ident)
            if parent is None:
                self.everything = True
                continue
            families = _values(parent, "family_id")
            if not families and cls is e.User:
                continue  # an agent's own reset or e-mail change: no household's page
            if not families:
                self.everything = True
            self.families.update(families)

    def resolve_children(self, session: Session) -> None:
        """The households of the changed children (before the flush: a deleted child's links
        are still there)."""
        if not self.children:
            return
        rows = session.execute(
            select(family_child.c.family_id).where(
                family_child.c.child_id.in_(sorted(self.children))
            ),
            execution_options={BUMPING: True},
        )
        self.families.update(row[0] for row in rows)
        self.children.clear()


def _record(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: note the households (or the global version) its changes touch."""
    pending = _Pending()
    with session.no_autoflush:
        for obj in (*session.new, *session.deleted):
            pending.add(session, obj)
        for obj in session.dirty:
            if session.is_modified(obj, include_collections=False):
                pending.add(session, obj)
        pending.resolve_children(session)
    _note(session, pending.families, pending.everything)


def note_new(session: Session, entities: Iterable[Any]) -> None:
    """Note the households of new records written without the ORM's flush
    (``SqlUnitOfWork.add_many``, before their ids are drawn) exactly as a flush of them would:
    a new household bumps nothing (nobody has seen its pages), a guardian its household. Their
    ``INSERT`` then runs with the :data:`NOTED` option."""
    pending = _Pending()
    with session.no_autoflush:
        for obj in entities:
            pending.add(session, obj)
        pending.resolve_children(session)
    _note(session, pending.families, pending.everything)


def _note(session: Session, families: Iterable[int], everything: bool) -> None:
    session.info.setdefault(FAMILIES, set()).update(families)
    if everything:
        session.info[EVERYTHING] = True


def _core_statement(state: ORMExecuteState) -> None:
    """A Core (or ORM bulk) INSERT, UPDATE or DELETE run through the session: rows with a
    ``family_id`` bump their households, any other write the global version."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get(BUMPING) or state.execution_options.get(NOTED):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in NEUTRAL_TABLES:
        return
    parameters: Any = state.parameters
    rows = list(parameters) if isinstance(parameters, list) else [parameters] if parameters else []
    families = [row.get("family_id") if isinstance(row, Mapping) else None for row in rows]
    if state.is_insert and rows and name != "family" and all(f is not None for f in families):
        _note(state.session, {int(str(family_id)) for family_id in families}, False)
        return
    _note(state.session, (), True)


def _bump_before_commit(session: Session) -> None:
    """Just before the commit (and before the event feed's lock): bump what the transaction
    changed."""
    session.flush()  # the last changes, which note their households
    families = session.info.pop(FAMILIES, set())
    everything = session.info.pop(EVERYTHING, False)
    if families or everything:
        bump(session.connection(), families, everything=everything)


def _forget(session: Session, transaction: Any) -> None:
    """A transaction that ends without committing bumps nothing."""
    if transaction.parent is None:
        session.info.pop(FAMILIES, None)
        session.info.pop(EVERYTHING, None)


def bump(connection: Connection, families: Iterable[int] = (), *, everything: bool = False) -> None:
    """Bump the versions of ``families`` (and the global one when ``everything``) in
    ``connection``'s transaction. For writes that bypass the session: call it in their
    transaction, before it commits."""
    options = {BUMPING: True}
    ids = sorted(set(families))
    if len(ids) == 1:
        connection.execute(
            update(family).where(family.c.id == ids[0]).values(data_version=family.c.data_version + 1),
            execution_options=options,
        )
    elif ids:
        # Many households (an import's batch: 500 new ones) in one statement instead of one
        # each. PostgreSQL locks their rows in ascending id order first (``ORDER BY id FOR
        # UPDATE``), the one order every bump takes: no deadlock between bumps. SQLite locks
        # the whole database; its IN lists are cut below its parameter limit.
        postgresql = connection.dialect.name == "postgresql"
        step = len(ids) if postgresql else BUMP_CHUNK
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            if postgresql:
                where = family.c.id.in_(
                    select(family.c.id)
                    .where(family.c.id == any_(bindparam("ids", chunk, type_=ARRAY(Integer))))
                    .order_by(family.c.id)
                    .with_for_update()
                )
            else:
                where = family.c.id.in_(chunk)
            connection.execute(
                update(family).where(where).values(data_version=family.c.data_version + 1),
                execution_options=options,
            )
    if everything:
        done = connection.execute(
            update(portal_version)
            .where(portal_version.c.name == GLOBAL)
            .values(version=portal_version.c.version + 1),
            execution_options=options,
        )
        if not done.rowcount:  # a database emptied by hand (the tests do): the row comes back
            insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(
                insert(portal_version).values(name=GLOBAL, version=1).on_conflict_do_nothing(),
                execution_options=options,
            )


def bump_all(connection: Connection) -> None:
    """Bump every household's version and the global one (a bulk change whose households are not
    known, such as ``bench/city.py``'s build)."""
    connection.execute(
        update(family).values(data_version=family.c.data_version + 1),
        execution_options={BUMPING: True},
    )
    bump(connection, everything=True)


READ = text(
    "SELECT family.data_version, "
    "COALESCE((SELECT version FROM portal_version WHERE name = 'pages'), 0) "
    "FROM family WHERE family.id = :family_id"
)
"""The versions' query when the session check did not read them (a portal whose accounts are
read through a unit of work; famille_core/persistence/account_check.py reads them otherwise)."""


def read(session: Session, family_id: int) -> tuple[int, int]:
    """The household's version and the global one, in one small query (0 when missing), on the
    session's connection (its transaction: on SQLite the page's data is read in the same
    snapshot; on PostgreSQL, read first, it is never newer than the data read after it)."""
    row = session.connection().execute(READ, {"family_id": family_id}).first()  # name: GLOBAL
    if row is None:
        return (0, 0)
    return (int(row[0]), int(row[1]))


def install(session_class: Any) -> None:
    """Bump the versions in every session made by ``session_class`` (a sessionmaker). Install it
    *before* the event feed's listeners, so that its bumps come before the feed's lock."""
    event.listen(session_class, "before_flush", _record)
    event.listen(session_class, "do_orm_execute", _core_statement)
    event.listen(session_class, "before_commit", _bump_before_commit)
    event.listen(session_class, "after_transaction_end", _forget)
