"""The domain event feed, written in the same transaction as each change.

A ``before_flush`` listener looks at what the unit of work is about to write and adds one
:class:`~famille_core.entities.DomainEvent` per meaningful change — no service has to remember to
publish. Payloads hold identifiers and states only, never personal data.

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

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from famille_core import entities as e

PROFILE_ENTITIES: dict[type, str] = {
    e.Family: "family",
    e.Guardian: "guardian",
    e.FiscalData: "fiscal_data",
    e.CafInfo: "caf_info",
    e.BankDetails: "bank_details",
    e.Child: "child",
    e.ChildDetails: "child_details",
    e.HealthRecord: "health_record",
    e.AuthorizedPerson: "authorized_person",
    e.ProfileExtraValue: "profile_extra_value",
}


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


def _family_of(obj: Any) -> int | None:
    if isinstance(obj, e.Family):
        return obj.id
    return getattr(obj, "family_id", None)


def _changed(obj: object, attribute: str) -> bool:
    return bool(inspect(obj).attrs[attribute].history.has_changes())


QUEUED = "famille_events_queued"
"""``session.info`` key: the events of this transaction not yet written, with their source."""

FEED_LOCK = 0x46414D494C4C45
"""The advisory lock key of the event feed, held from the events' insertion to the commit."""


def _events_for(session: Session) -> Iterable[tuple[e.DomainEvent, Any]]:
    now = datetime.now(UTC)

    def make(kind: str, obj: Any, entity: str, **payload: Any) -> tuple[e.DomainEvent, Any]:
        domain_event = e.DomainEvent(
            at=now,
            kind=kind,
            entity=entity,
            entity_id=getattr(obj, "id", None),
            family_id=_family_of(obj),
            payload={
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in payload.items()
            },
        )
        return domain_event, obj

    for obj in list(session.new):
        if isinstance(obj, e.Reservation):
            yield make(
                f"reservation.{_state(obj.state)}",
                obj,
                "reservation",
                child_id=obj.child_id,
                activity_id=obj.activity_id,
                day=obj.day,
                state=_state(obj.state),
            )
        elif isinstance(obj, e.Absence):
            yield make(
                "absence.declared",
                obj,
                "absence",
                child_id=obj.child_id,
                activity_id=obj.activity_id,
                day=obj.day,
                reason_code=obj.reason_code,
            )
        elif isinstance(obj, e.Message):
            yield make(
                "message.sent",
                obj,
                "message",
                thread_id=obj.thread_id,
                direction=_state(obj.direction),
                is_system=obj.is_system,
            )
        elif type(obj) in PROFILE_ENTITIES:
            yield make("profile.created", obj, PROFILE_ENTITIES[type(obj)])
    for obj in list(session.dirty):
        if not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, e.Reservation) and _changed(obj, "state"):
            yield make(
                f"reservation.{_state(obj.state)}",
                obj,
                "reservation",
                child_id=obj.child_id,
                activity_id=obj.activity_id,
                day=obj.day,
                state=_state(obj.state),
            )
        elif isinstance(obj, e.ChangeRequest) and _changed(obj, "state"):
            yield make(
                "change_request.decided",
                obj,
                "change_request",
                section=obj.section,
                state=obj.state,
            )
        elif isinstance(obj, e.PaymentTransaction) and _changed(obj, "state"):
            kind = "payment.made" if _state(obj.state) == "paid" else f"payment.{_state(obj.state)}"
            yield make(kind, obj, "payment", invoice_id=obj.invoice_id, state=_state(obj.state))
        elif type(obj) in PROFILE_ENTITIES:
            yield make("profile.changed", obj, PROFILE_ENTITIES[type(obj)])
    for obj in list(session.deleted):
        if isinstance(obj, e.Absence):
            yield make(
                "absence.withdrawn",
                obj,
                "absence",
                child_id=obj.child_id,
                activity_id=obj.activity_id,
                day=obj.day,
            )
        elif type(obj) in PROFILE_ENTITIES:
            yield make("profile.deleted", obj, PROFILE_ENTITIES[type(obj)])


def _record(session: Session, _context: Any, _instances: Any) -> None:
    """Queue the events of the changes about to be flushed (written at commit)."""
    session.info.setdefault(QUEUED, []).extend(_events_for(session))


def _write_queued(session: Session) -> None:
    """Just before the commit: insert the transaction's events under the feed lock."""
    if not session.info.get(QUEUED):
        return
    session.flush()  # the last changes, which may queue more events and give rows their ids
    queued = session.info.pop(QUEUED, [])
    if not queued:
        return
    for domain_event, source in queued:
        # Rows created in this transaction know their id now.
        if domain_event.entity_id is None:
            domain_event.entity_id = getattr(source, "id", None)
        if domain_event.family_id is None:
            domain_event.family_id = _family_of(source)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
    session.add_all([domain_event for domain_event, _ in queued])
    session.flush()


def _forget_queued(session: Session, transaction: Any) -> None:
    """A transaction that ends without committing takes its events with it."""
    if transaction.parent is None:
        session.info.pop(QUEUED, None)


def install(session_class: Any) -> None:
    """Record events for every session made by ``session_class`` (a sessionmaker)."""
    event.listen(session_class, "before_flush", _record)
    event.listen(session_class, "before_commit", _write_queued)
    event.listen(session_class, "after_transaction_end", _forget_queued)
