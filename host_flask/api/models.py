"""What the API answers: attrs classes shaped from the entities (and described in OpenAPI).

Refusals are :class:`host_flask.problems.Problem` documents, as everywhere in the portal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import frozen


@frozen(kw_only=True)
class GuardianOut:
    """A guardian."""

    role: str
    civility: str
    last_name: str
    first_name: str
    email: str
    phone_mobile: str


@frozen(kw_only=True)
class FamilyOut:
    """A household."""

    id: int
    external_id: str | None
    family_number: str
    name: str
    guardians: list[GuardianOut]


@frozen(kw_only=True)
class ChildOut:
    """A child and the households it belongs to."""

    id: int
    external_id: str | None
    first_name: str
    last_name: str
    birth_date: date | None
    school: str
    class_level: str
    families: list[int]


@frozen(kw_only=True)
class ActivityOut:
    """An activity."""

    id: int
    code: str
    label: str
    service: str
    capacity: int | None
    policy: str
    unit_price: Decimal


@frozen(kw_only=True)
class EnrolmentOut:
    """An enrolment."""

    id: int
    external_id: str | None
    child_id: int
    family_id: int
    activity_id: int
    start_date: date
    end_date: date
    site: str


@frozen(kw_only=True)
class FieldChangeOut:
    """One field a change touched: its old and new values, or ``sensitive`` without them (read
    them with the record's scope)."""

    field: str
    sensitive: bool
    old: Any
    new: Any


@frozen(kw_only=True)
class AuthorOut:
    """Who made a change: ``parent``, ``agent``, ``api_client`` or ``system``."""

    kind: str
    id: int | None
    name: str


@frozen(kw_only=True)
class EventOut:
    """A domain event; ``id`` is the cursor."""

    id: int
    at: datetime
    kind: str
    entity: str
    entity_id: int | None
    family_id: int | None
    payload: dict[str, Any]
    changes: list[FieldChangeOut]
    """What changed (docs/api.md, "What changed"); empty for events that are not records'."""
    author: AuthorOut | None
    """``null`` for events written before the feed named authors."""


@frozen(kw_only=True)
class UpsertResult:
    """What an upsert did."""

    id: int
    outcome: str


@frozen(kw_only=True)
class EventFeed:
    """Events after a cursor; pass ``next_cursor`` as ``after`` to read on."""

    items: list[EventOut]
    next_cursor: int
