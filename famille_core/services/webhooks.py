"""Webhooks: the event feed pushed to an ERP's URL, in order, signed, retried with backoff by the
background queue, and logged (docs/api.md, "Webhooks").

Nothing is sent while a person saves: the ``webhooks.deliver`` job (every minute, ``famille
worker``) reads each subscription's events after its ``cursor`` and POSTs them one at a time.
A 2xx moves the cursor past the event; anything else stops that subscription until its next
attempt, which waits twice as long after each failure (:func:`retry_delay`): a receiver down
then up gets every event, in order, and each once it has acknowledged it. A subscription is
claimed for the time of a pass (``claimed_until``, like the e-mail outbox), so two workers never
deliver the same event at once.

The signature: ``X-Famille-Signature: t=<unix time>,v1=<hex>``, ``hex`` being the HMAC-SHA256,
keyed with the subscription's secret, of ``<unix time>.`` followed by the body's bytes
(``examples/webhook_receiver.py`` verifies it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from famille_core.entities import (
    ApiClient,
    DomainEvent,
    Scope,
    WebhookDelivery,
    WebhookSubscription,
)
from famille_core.errors import Conflict, Issue, NotFound, raise_if
from famille_core.feed import event_document
from famille_core.uow import Gte, In, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Famille-Signature"
EVENT_HEADER = "X-Famille-Event"
TIMEOUT_SECONDS = 5.0
"""How long a receiver may take to answer one event (a slower one is a failed attempt)."""
BATCH = 100
"""Events sent to one subscription in one pass at most (the next pass goes on)."""
LEASE = timedelta(minutes=5)
"""How long a pass owns a subscription (longer than ``BATCH`` slow answers would take)."""
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(failures: int) -> timedelta:
    """The wait before the next attempt after ``failures`` failures in a row (30 s, 1 min,
    2 min… one hour at most)."""
    return min(FIRST_RETRY * 2 ** max(failures - 1, 0), LONGEST_WAIT)


def _check_url(url: str) -> list[Issue]:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # "http://[", a bad port…
        hostname = None
    if not hostname or parts.scheme not in ("http", "https") or len(url) > 2000 or not url.isprintable() or " " in url:
        return [Issue("invalid", "Adresse invalide : une URL http:// ou https:// complète.", "url")]
    return []


def register(
    portal: Portal, uow: UnitOfWork, client: ApiClient, url: str, kinds: Iterable[str]
) -> tuple[WebhookSubscription, str]:
    """Register a webhook of ``client`` (which must read the feed: ``events:read``); it starts
    at the feed's current end. Returns it with its secret, shown once.

    :raises ValidationFailed: a bad URL, or a client without ``events:read``.
    """
    kinds = sorted({kind.strip() for kind in kinds if kind.strip()})
    issues = _check_url(url)
    if not client.allows(Scope.EVENTS_READ):
        issues.append(Issue("scope", "Ce client doit avoir le périmètre « events:read ».", None))
    issues += [Issue("invalid", "Type d'événement trop long.", "kinds") for kind in kinds if len(kind) > 50]
    raise_if(issues)
    assert client.id is not None
    last = uow.first(DomainEvent, order_by=("-id",))
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        api_client_id=client.id,
        url=url,
        secret=secret,
        kinds=kinds,
        cursor=(last.id or 0) if last is not None else 0,
        created_at=portal.clock.now(),
    )
    uow.add(subscription)
    uow.flush()
    return subscription, secret


def subscriptions_of(uow: UnitOfWork, client: ApiClient) -> list[WebhookSubscription]:
    """The client's webhooks, revoked ones included."""
    return uow.find(WebhookSubscription, api_client_id=client.id, order_by=("id",))


def subscription_of(uow: UnitOfWork, client: ApiClient, subscription_id: int) -> WebhookSubscription:
    """One of the client's webhooks, or :class:`NotFound`."""
    subscription = uow.get(WebhookSubscription, subscription_id) if 0 < subscription_id < 2**31 else None
    if subscription is None or subscription.api_client_id != client.id:
        raise NotFound("Webhook introuvable.")
    return subscription


def revoke(portal: Portal, uow: UnitOfWork, client: ApiClient, subscription_id: int) -> WebhookSubscription:
    """Stop a webhook: nothing more is sent to it."""
    subscription = subscription_of(uow, client, subscription_id)
    if subscription.revoked_at is None:
        subscription.revoked_at = portal.clock.now()
    return subscription


# --------------------------------------------------------------------------- delivering


def _claim(portal: Portal, subscription_id: int) -> WebhookSubscription | None:
    """Claim a due subscription for one pass, or ``None`` (not due, revoked, or claimed)."""
    with portal.unit_of_work() as uow:
        now = portal.clock.now()
        subscription = uow.get(WebhookSubscription, subscription_id)
        if (
            subscription is None
            or subscription.revoked_at is not None
            or (subscription.next_attempt_at is not None and subscription.next_attempt_at > now)
            or (subscription.claimed_until is not None and subscription.claimed_until > now)
        ):
            return None
        subscription.claimed_until = now + LEASE
        try:
            uow.commit()  # UPDATE … WHERE version = ?: one pass claims it
        except Conflict:
            return None
        return subscription


def _post(subscription: WebhookSubscription, event: DomainEvent) -> tuple[int | None, str, int]:
    """Send one event; returns the status code (``None`` when no answer), the error and the
    time it took in milliseconds."""
    body = json.dumps(event_document(event), ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked at registration
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            EVENT_HEADER: str(event.id),
            SIGNATURE_HEADER: sign(subscription.secret, int(time.time()), body),
            "User-Agent": "Portail-Famille-Webhooks",
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            status: int | None = answer.status
            error = ""
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad address
        status, error = None, type(exc).__name__
    took = int((time.monotonic() - started) * 1000)
    if status is not None and not 200 <= status < 300 and not error:
        error = f"HTTP {status}"
    return status, error, took


def _record(portal: Portal, subscription_id: int, event_id: int, status: int | None, error: str, took: int) -> None:
    """Log the attempt and move the cursor (delivered) or set the next attempt (failed)."""
    delivered = not error
    with portal.unit_of_work() as uow:
        now = portal.clock.now()
        uow.add(
            WebhookDelivery(
                subscription_id=subscription_id,
                event_id=event_id,
                at=now,
                delivered=delivered,
                status_code=status,
                error=error[:200],
                duration_ms=took,
            )
        )
        subscription = uow.get(WebhookSubscription, subscription_id)
        assert subscription is not None
        if delivered:
            subscription.cursor = max(subscription.cursor, event_id)
            subscription.failures = 0
            subscription.next_attempt_at = None
        else:
            subscription.failures += 1
            subscription.next_attempt_at = now + retry_delay(subscription.failures)
            subscription.claimed_until = None
        uow.commit()


def _release(portal: Portal, subscription_id: int) -> None:
    with portal.unit_of_work() as uow:
        subscription = uow.get(WebhookSubscription, subscription_id)
        if subscription is not None:
            subscription.claimed_until = None
            uow.commit()


def _deliver_one(portal: Portal, subscription_id: int) -> int:
    """One pass over a subscription: its events in order until one fails; how many were
    delivered."""
    subscription = _claim(portal, subscription_id)
    if subscription is None:
        return 0
    criteria: dict[str, Any] = {"kind": In(subscription.kinds)} if subscription.kinds else {}
    with portal.unit_of_work() as uow:
        events = uow.find(DomainEvent, id=Gte(subscription.cursor + 1), order_by=("id",), limit=BATCH, **criteria)
    delivered = 0
    for event in events:
        assert event.id is not None
        status, error, took = _post(subscription, event)
        _record(portal, subscription_id, event.id, status, error, took)
        if error:
            log.warning("webhook delivery failed", extra={"webhook_id": subscription_id, "error": error})
            return delivered
        delivered += 1
    _release(portal, subscription_id)
    return delivered


def deliver(portal: Portal) -> int:
    """The ``webhooks.deliver`` job: one pass over every active subscription of a client not
    revoked; returns how many events were delivered. A failing receiver never holds the others
    up."""
    with portal.unit_of_work() as uow:
        active = uow.find(WebhookSubscription, revoked_at=None, order_by=("id",))
        clients = {c.id: c for c in uow.find(ApiClient, id=In({s.api_client_id for s in active}))} if active else {}
        ids = [s.id for s in active if s.id and clients[s.api_client_id].revoked_at is None]
    return sum(_deliver_one(portal, subscription_id) for subscription_id in ids)


def deliveries(
    uow: UnitOfWork, client: ApiClient, subscription_id: int, *, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    """A webhook's delivery log, newest first, and its length."""
    subscription = subscription_of(uow, client, subscription_id)
    rows = uow.find(
        WebhookDelivery, subscription_id=subscription.id, order_by=("-id",), limit=limit, offset=offset
    )
    return rows, uow.count(WebhookDelivery, subscription_id=subscription.id)
