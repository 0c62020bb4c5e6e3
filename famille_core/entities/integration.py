"""What integrators use: machine clients of the JSON API and the feed of domain events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from attrs import define, field


class Scope(StrEnum):
    """What an API client may do."""

    FAMILIES_READ = "families:read"
    FAMILIES_WRITE = "families:write"
    ENROLMENTS_WRITE = "enrolments:write"
    AGENDA_READ = "agenda:read"
    INVOICES_READ = "invoices:read"
    INVOICES_WRITE = "invoices:write"
    PAYMENTS_READ = "payments:read"
    MESSAGES_WRITE = "messages:write"
    EVENTS_READ = "events:read"
    BANK_READ = "bank:read"
    """The bank details unmasked (each read audited; plugin ``profile``)."""
    HEALTH_READ = "health:read"
    """The children's health records (each read audited; plugin ``profile``)."""
    PHOTOS_READ = "photos:read"
    """The children's photos (plugin ``profile``)."""
    WEBHOOKS_MANAGE = "webhooks:manage"
    """Register webhooks that push the event feed (with ``events:read``) and read their log."""


@define(slots=False, eq=False, kw_only=True)
class ApiClient:
    """A machine client (an ERP). Its token is shown once and stored hashed."""

    id: int | None = None
    name: str
    token_hash: str
    scopes: list[str] = field(factory=list)
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def allows(self, scope: Scope | str) -> bool:
        """True when the client holds ``scope`` and is not revoked."""
        return self.revoked_at is None and str(scope) in self.scopes


@define(slots=False, eq=False, kw_only=True)
class DomainEvent:
    """Something that happened, written in the same transaction as the change.

    ``id`` increases with time: it is the cursor an ERP keeps to read the feed incrementally.
    The payload holds identifiers and states, and for a household's record the changed fields
    with their old and new values (never a sensitive one's), kept ``[portal]
    feed_values_retention_days`` (``famille_core.services.retention``).
    """

    id: int | None = None
    at: datetime
    kind: str
    entity: str
    entity_id: int | None = None
    family_id: int | None = None
    payload: dict[str, Any] = field(factory=dict)


@define(slots=False, eq=False, kw_only=True)
class WebhookSubscription:
    """An ERP's webhook: the feed's events of ``kinds`` (all when empty) are POSTed to ``url``
    in order, signed with ``secret`` (docs/api.md, "Webhooks"). ``cursor`` is the last event
    delivered; after a failure nothing is sent before ``next_attempt_at``."""

    id: int | None = None
    api_client_id: int
    url: str
    secret: str
    kinds: list[str] = field(factory=list)
    cursor: int = 0
    failures: int = 0
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 1


@define(slots=False, eq=False, kw_only=True)
class WebhookDelivery:
    """One attempt to deliver an event to a webhook: the delivery log."""

    id: int | None = None
    subscription_id: int
    event_id: int
    at: datetime
    delivered: bool
    status_code: int | None = None
    error: str = ""
    """Why it failed: ``HTTP 503``, or the error's class (never its text)."""
    duration_ms: int = 0
