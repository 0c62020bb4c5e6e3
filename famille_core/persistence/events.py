"""The domain event feed, written in the same transaction as each change.

A ``before_flush`` listener looks at what the unit of work is about to write and adds one
:class:`~famille_core.entities.DomainEvent` per meaningful change — no service has to remember to
publish. Payloads hold identifiers and states only, never personal data.

Ordering: event ids come from a sequence, and two transactions may commit out of id order. To keep
the rule "a reader that has seen id N will never later find an event < N", transactions that write
events take the ``domain_event`` lock until they commit (PostgreSQL advisory lock; SQLite
serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect
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


PENDING_IDS = "famille_events_pending_ids"


def _events_for(session: Session) -> Iterable[e.DomainEvent]:
    now = datetime.now(UTC)
    pending = session.info.setdefault(PENDING_IDS, [])

    def make(kind: str, obj: Any, entity: str, **payload: Any) -> e.DomainEvent:
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
        if domain_event.entity_id is None:
            pending.append((domain_event, obj))  # the row's id is known after the flush
        return domain_event

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
    events = list(_events_for(session))
    if not events:
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        from sqlalchemy import func, select

        session.connection().execute(select(func.pg_advisory_xact_lock(0x46414D494C4C45)))
    session.add_all(events)


def _fill_ids(session: Session, _context: Any) -> None:
    """Events of new rows learn the row's id once it is known (written by the next flush,
    in the same transaction)."""
    for domain_event, source in session.info.pop(PENDING_IDS, []):
        domain_event.entity_id = source.id
        if domain_event.family_id is None:
            domain_event.family_id = _family_of(source)


def install(session_class: Any) -> None:
    """Record events for every session made by ``session_class`` (a sessionmaker)."""
    event.listen(session_class, "before_flush", _record)
    event.listen(session_class, "after_flush_postexec", _fill_ids)
