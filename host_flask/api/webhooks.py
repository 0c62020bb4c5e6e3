"""The API's webhooks (scope ``webhooks:manage``): an ERP registers a URL and the event kinds it
wants, lists and revokes its webhooks, and reads their delivery log (docs/api.md, "Webhooks";
the deliveries: :mod:`famille_core.services.webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import field, frozen
from flask import request

from famille_core.entities import Scope, WebhookSubscription
from famille_core.services import webhooks
from host_flask.api.framework import (
    ApiError,
    QueryParam,
    api_operation,
    body_as,
    current_client,
    int_arg,
)
from host_flask.api.queries import PAGE_PARAMS, page_of
from host_flask.context import get_portal, request_uow
from host_flask.params import MAX_ID
from host_flask.problems import FieldError


@frozen(kw_only=True)
class WebhookIn:
    """A webhook to register: the URL the events are POSTed to and their kinds (all when
    empty, e.g. ``["profile.changed", "change_request.decided"]``)."""

    url: str
    kinds: list[str] = field(factory=list)


@frozen(kw_only=True)
class WebhookRef:
    """The webhook meant."""

    id: int


@frozen(kw_only=True)
class WebhookOut:
    """A webhook: ``cursor`` is the last event delivered; after failures, nothing is sent
    before ``next_attempt_at``."""

    id: int
    url: str
    kinds: list[str]
    cursor: int
    failures: int
    next_attempt_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None


@frozen(kw_only=True)
class WebhookCreated:
    """A new webhook and its signing secret, shown this once."""

    webhook: WebhookOut
    secret: str


@frozen(kw_only=True)
class DeliveryOut:
    """One attempt to deliver an event."""

    id: int
    event_id: int
    at: datetime
    delivered: bool
    status_code: int | None
    error: str
    duration_ms: int


def _out(subscription: WebhookSubscription) -> WebhookOut:
    return WebhookOut(
        id=subscription.id or 0,
        url=subscription.url,
        kinds=list(subscription.kinds),
        cursor=subscription.cursor,
        failures=subscription.failures,
        next_attempt_at=subscription.next_attempt_at,
        created_at=subscription.created_at,
        revoked_at=subscription.revoked_at,
    )


@api_operation(
    "POST",
    "/webhooks",
    summary="Enregistre un webhook : les événements du flux seront envoyés, signés, à cette adresse",
    scope=Scope.WEBHOOKS_MANAGE,
    request_body=WebhookIn,
    response=WebhookCreated,
    status=201,
)
def create_webhook() -> Any:
    data = body_as(WebhookIn)
    subscription, secret = webhooks.register(get_portal(), request_uow(), current_client(), data.url, data.kinds)
    return WebhookCreated(webhook=_out(subscription), secret=secret)


@api_operation(
    "GET",
    "/webhooks",
    summary="Les webhooks de ce client",
    scope=Scope.WEBHOOKS_MANAGE,
    response=list[WebhookOut],
)
def list_webhooks() -> Any:
    return [_out(s) for s in webhooks.subscriptions_of(request_uow(), current_client())]


@api_operation(
    "POST",
    "/webhooks/revoke",
    summary="Arrête un webhook",
    scope=Scope.WEBHOOKS_MANAGE,
    request_body=WebhookRef,
    response=WebhookOut,
    problems=((404, "Webhook inconnu"),),
)
def revoke_webhook() -> Any:
    ref = body_as(WebhookRef)
    return _out(webhooks.revoke(get_portal(), request_uow(), current_client(), ref.id))


WEBHOOK_PARAM = QueryParam(
    name="webhook_id",
    schema={"type": "integer", "minimum": 1, "maximum": MAX_ID},
    description="Le webhook.",
    required=True,
)


@api_operation(
    "GET",
    "/webhook-deliveries",
    summary="Journal des envois d'un webhook, du plus récent au plus ancien (paginé)",
    scope=Scope.WEBHOOKS_MANAGE,
    response=page_of(DeliveryOut),
    params=(WEBHOOK_PARAM, *PAGE_PARAMS),
    problems=((404, "Webhook inconnu"),),
)
def list_deliveries() -> Any:
    if "webhook_id" not in request.args:
        raise ApiError(
            400,
            "parametre-invalide",
            "Paramètre invalide",
            "« webhook_id » est obligatoire.",
            [FieldError(field="webhook_id", code="required", message="Ce champ est obligatoire.")],
        )
    webhook_id = int_arg("webhook_id", 0, 1, MAX_ID)
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 100, 1, 500)
    rows, total = webhooks.deliveries(
        request_uow(), current_client(), webhook_id, limit=per_page, offset=(page - 1) * per_page
    )
    items = [
        DeliveryOut(
            id=row.id or 0,
            event_id=row.event_id,
            at=row.at,
            delivered=row.delivered,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )
        for row in rows
    ]
    return page_of(DeliveryOut)(items=items, page=page, per_page=per_page, total=total)


OPERATIONS = (create_webhook, list_webhooks, revoke_webhook, list_deliveries)
"""The webhooks' operations, part of the core's."""
