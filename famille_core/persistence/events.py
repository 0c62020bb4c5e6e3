"""The domain event feed, written in the same transaction as each change.

A ``before_flush`` listener looks at what the unit of work is about to write and queues one
:class:`~famille_core.entities.DomainEvent` row per meaningful change (records written together
by ``SqlUnitOfWork.add_many`` queue theirs through :func:`queue_created`) — no service has to remember to
publish. Which changes are meaningful is each feature's word: the enabled plugins'
``domain_event_policies`` (:class:`~famille_core.hooks.results.EventPolicy`), given to the
sessions by :func:`configure`; this module is only the mechanism. Each event lists what changed
(the policy's ``fields``: old and new values, or only the name of a sensitive one) and who
changed it (:func:`famille_core.feed.current_author` when the change is flushed).

Ordering: a reader that has seen id N never later finds an event < N (docs/api.md, "The event
feed"). Ids come from a sequence, and transactions commit in any order, so the events are not
written when the change is flushed: they wait in the session and are inserted just before the
commit, under the ``domain_event`` lock (a PostgreSQL advisory lock), which the commit releases.
A transaction therefore takes its ids only once every transaction that took smaller ones is
committed (PostgreSQL makes a transaction visible before it releases its locks), and the lock is
held for the commit alone: a long ERP import or an open transaction never makes a booking wait,
and since the lock is the last one a transaction takes, it closes no deadlock cycle. SQLite
serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from famille_core import entities as e
from famille_core.clock import Clock
from famille_core.feed import current_author
from famille_core.hooks.results import EventPolicy, FeedEvent
from famille_core.persistence import bulk
from famille_core.persistence.tables import domain_event

POLICIES = "famille_event_policies"
CLOCK = "famille_event_clock"
"""``session.info`` key: the event policies by entity type (set by :func:`configure`)."""

QUEUED = "famille_events_queued"
"""``session.info`` key: the events of this transaction not yet written (rows of the
``domain_event`` table, :class:`~famille_core.entities.DomainEvent`'s fields), with their
source."""

FEED_LOCK = 0x46414D494C4C45
"""The advisory lock key of the event feed, held from the events' insertion to the commit."""


def _family_of(obj: Any) -> int | None:
    if isinstance(obj, e.Family):
        return obj.id
    return getattr(obj, "family_id", None)


def _changed(obj: object) -> Any:
    def changed(attribute: str) -> bool:
        return bool(inspect(obj).attrs[attribute].history.has_changes())

    return changed


def _jsonable(value: Any) -> Any:
    """A value as the feed's JSON stores it: dates ISO 8601, amounts and codes as text."""
    if value is None or type(value) in _PLAIN:
        return value  # most values: no conversion (an import makes hundreds of thousands)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if attrs.has(type(value)):
        return _jsonable(attrs.asdict(value, recurse=False))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


_PLAIN = frozenset({str, int, float, bool})


def _change(name: str, old: Any, new: Any, hidden: Collection[str]) -> dict[str, Any]:
    if name in hidden:
        return {"field": name, "sensitive": True, "old": None, "new": None}
    return {"field": name, "sensitive": False, "old": _jsonable(old), "new": _jsonable(new)}


_EMPTY: tuple[Any, ...] = (None, "", [], False)
"""Values a new record's event leaves out of its changes."""


def _changes(policy: EventPolicy, obj: Any, *, created: bool) -> list[dict[str, Any]]:
    """What ``obj``'s change did to the policy's fields (a new record: its non-empty ones)."""
    if not policy.fields:
        return []
    hidden = set(policy.sensitive(obj))
    if created:  # no history to read (an import creates thousands)
        return [
            _change(name, None, new, hidden)
            for name in policy.fields
            if (new := getattr(obj, name)) not in _EMPTY
        ]
    changes = []
    state = inspect(obj)
    for name in policy.fields:
        new = getattr(obj, name)
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        if old != new:
            changes.append(_change(name, old, new, hidden))
    return changes


def _event(
    policy: EventPolicy,
    obj: Any,
    feed_event: FeedEvent,
    now: datetime,
    *,
    created: bool = False,
    author: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``domain_event`` row of one change (a plain row: thousands of them, for an import,
    are written by one ``INSERT`` without going through the ORM); ``author``: the current
    author's payload, when the caller has it already."""
    payload = {k: _jsonable(v) for k, v in feed_event.payload.items()}
    if policy.fields:
        payload["changes"] = _changes(policy, obj, created=created)
    payload["author"] = dict(author) if author is not None else current_author().as_payload()
    return {
        "at": now,
        "kind": feed_event.kind,
        "entity": policy.entity,
        "entity_id": getattr(obj, "id", None),
        "family_id": _family_of(obj),
        "payload": payload,
    }


def _now(session: Session) -> datetime:
    """The time of the events (the portal's clock, given by :func:`configure`)."""
    clock: Clock | None = session.info.get(CLOCK)
    return clock.now() if clock is not None else datetime.now(UTC)


def _events_for(session: Session) -> Iterable[tuple[dict[str, Any], Any]]:
    policies: dict[type, EventPolicy] = session.info.get(POLICIES, {})
    if not policies:
        return
    now = _now(session)
    for obj in list(session.new):
        policy = policies.get(type(obj))
        if policy is not None and policy.created is not None:
            feed_event = policy.created(obj)
            if feed_event is not None:
                yield _event(policy, obj, feed_event, now, created=True), obj
    for obj in list(session.dirty):
        policy = policies.get(type(obj))
        if policy is None or policy.changed is None:
            continue
        if not session.is_modified(obj, include_collections=False):
            continue
        feed_event = policy.changed(obj, _changed(obj))
        if feed_event is not None and policy.fields and not _changes(policy, obj, created=False):
            feed_event = None  # only attributes the feed does not tell changed (a version)
        if feed_event is not None:
            yield _event(policy, obj, feed_event, now), obj
    for obj in list(session.deleted):
        policy = policies.get(type(obj))
        if policy is not None and policy.deleted is not None:
            feed_event = policy.deleted(obj)
            if feed_event is not None:
                yield _event(policy, obj, feed_event, now), obj


def queue_created(session: Session, created: Sequence[Any]) -> None:
    """Queue the creation events of records written without the ORM's flush
    (``SqlUnitOfWork.add_many``): the same events, written at commit like the others."""
    policies: dict[type, EventPolicy] = session.info.get(POLICIES, {})
    if not created or not policies:
        return
    policy = policies.get(type(created[0]))
    if policy is None or policy.created is None:
        return
    now = _now(session)
    author = current_author().as_payload()
    queued = session.info.setdefault(QUEUED, [])
    for obj in created:
        feed_event = policy.created(obj)
        if feed_event is not None:
            row = _event(policy, obj, feed_event, now, created=True, author=author)
            queued.append((row, obj))


def _record(session: Session, _context: Any, _instances: Any) -> None:
    """Queue the events of the changes about to be flushed (written at commit)."""
    session.info.setdefault(QUEUED, []).extend(_events_for(session))


def _write_queued(session: Session) -> None:
    """Just before the commit: insert the transaction's events under the feed lock.

    SQLAlchemy calls this *before* the commit's own flush: the changes not flushed yet are
    flushed first, or a change committed without an earlier flush would make no event.
    """
    session.flush()  # the last changes, which may queue more events and give rows their ids
    queued = session.info.pop(QUEUED, [])
    if not queued:
        return
    for row, source in queued:
        # Rows created in this transaction know their id now.
        if row["entity_id"] is None:
            row["entity_id"] = getattr(source, "id", None)
        if row["family_id"] is None:
            row["family_id"] = _family_of(source)
    rows = [row for row, _ in queued]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
        if len(rows) >= COPY_ROWS:
            bulk.copy_rows(session, domain_event, rows)
            return
    # One executemany, in the order of the changes (ids follow it), without RETURNING: nothing
    # reads the events' ids back in this transaction.
    session.execute(insert(domain_event), rows)


COPY_ROWS = 50
"""From this many events in one commit (an import's batch), PostgreSQL receives them by
``COPY`` rather than an executemany."""


def _forget_queued(session: Session, transaction: Any) -> None:
    """A transaction that ends without committing takes its events with it."""
    if transaction.parent is None:
        session.info.pop(QUEUED, None)


def install(session_class: Any) -> None:
    """Record events for every session made by ``session_class`` (a sessionmaker), once
    :func:`configure` has given it the policies."""
    event.listen(session_class, "before_flush", _record)
    event.listen(session_class, "before_commit", _write_queued)
    event.listen(session_class, "after_transaction_end", _forget_queued)


def configure(
    session_class: sessionmaker[Session], policies: Sequence[EventPolicy], clock: Clock | None = None
) -> None:
    """The policies that say which changes make events in the sessions of ``session_class``
    (the enabled plugins' ``domain_event_policies``), and the portal's clock that dates them.

    :raises ValueError: two policies watch the same entity type.
    """
    by_type: dict[type, EventPolicy] = {}
    for policy in policies:
        if policy.entity_type in by_type:
            raise ValueError(f"two event policies for {policy.entity_type.__name__}")
        by_type[policy.entity_type] = policy
    session_class.configure(info={POLICIES: by_type, CLOCK: clock})
