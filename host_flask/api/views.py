"""The API's own resources (households, children, activities, enrolments, the event feed) and the ``/api/v1`` blueprint of an application, with the enabled plugins'
operations (hook ``api_operations``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue

from famille_core import entities as e
from famille_core.convert import shape
from famille_core.entities import Scope
from famille_core.feed import event_document
from famille_core.portal import Portal
from famille_core.services import invitations, sync
from famille_core.uow import Gte, In
from host_flask.access import public
from host_flask.api import models as m
from host_flask.api.framework import (
    Operation,
    QueryParam,
    api_operation,
    body_as,
    int_arg,
    register,
)
from host_flask.api.openapi import openapi_document
from host_flask.api.queries import (
    EXTERNAL_FILTER,
    PAGE_PARAMS,
    api_page,
    page_of,
    paginate,
    query_filters,
)
from host_flask.api.webhooks import OPERATIONS as WEBHOOK_OPERATIONS
from host_flask.context import get_portal, request_uow
from host_flask.params import MAX_ID

PREFIX = "/api/v1"
OPERATIONS_KEY = "famille_api_operations"
"""``app.extensions[OPERATIONS_KEY]``: the application's API operations, for OpenAPI."""


@api_operation(
    "GET",
    "/families",
    summary="Familles (paginé)",
    scope=Scope.FAMILIES_READ,
    response=page_of(m.FamilyOut),
    params=PAGE_PARAMS + EXTERNAL_FILTER,
)
def list_families() -> Any:
    uow = request_uow()
    families, page = paginate(uow, e.Family, **query_filters(external_id="str"))
    guardians = (
        uow.find(e.Guardian, family_id=In([f.id for f in families]), order_by=("role",))
        if families
        else []
    )
    by_family: dict[int, list[e.Guardian]] = {}
    for guardian in guardians:
        by_family.setdefault(guardian.family_id, []).append(guardian)
    converter = get_portal().converter
    items = [
        shape(
            converter,
            family,
            m.FamilyOut,
            guardians=[shape(converter, g, m.GuardianOut) for g in by_family.get(family.id or 0, [])],
        )
        for family in families
    ]
    return page_of(m.FamilyOut)(items=items, **page)


@api_operation(
    "POST",
    "/families",
    summary="Crée ou met à jour une famille (clé : external_id)",
    scope=Scope.FAMILIES_WRITE,
    request_body=sync.FamilyRecord,
    response=m.UpsertResult,
)
def upsert_family() -> Any:
    family, outcome = sync.upsert_family(request_uow(), body_as(sync.FamilyRecord))
    invitations.invite_imported(get_portal(), request_uow(), family)
    request_uow().flush()
    return m.UpsertResult(id=family.id or 0, outcome=outcome.value)


@api_operation(
    "GET",
    "/children",
    summary="Enfants (paginé)",
    scope=Scope.FAMILIES_READ,
    response=page_of(m.ChildOut),
    params=PAGE_PARAMS + EXTERNAL_FILTER,
)
def list_children() -> Any:
    uow = request_uow()
    children, page = paginate(uow, e.Child, **query_filters(external_id="str"))
    links = uow.find(e.FamilyChild, child_id=In([c.id for c in children])) if children else []
    families: dict[int, list[int]] = {}
    for link in links:
        families.setdefault(link.child_id, []).append(link.family_id)
    converter = get_portal().converter
    items = [
        shape(converter, c, m.ChildOut, families=sorted(families.get(c.id or 0, [])))
        for c in children
    ]
    return page_of(m.ChildOut)(items=items, **page)


@api_operation(
    "POST",
    "/children",
    summary="Crée ou met à jour un enfant (clé : external_id)",
    scope=Scope.FAMILIES_WRITE,
    request_body=sync.ChildRecord,
    response=m.UpsertResult,
)
def upsert_child() -> Any:
    child, outcome = sync.upsert_child(request_uow(), body_as(sync.ChildRecord))
    request_uow().flush()
    return m.UpsertResult(id=child.id or 0, outcome=outcome.value)


@api_operation(
    "GET",
    "/activities",
    summary="Activités",
    scope=Scope.FAMILIES_READ,
    response=list[m.ActivityOut],
)
def list_activities() -> Any:
    converter = get_portal().converter
    return [
        shape(converter, activity, m.ActivityOut)
        for activity in request_uow().find(e.Activity, order_by=("code",))
    ]


@api_operation(
    "GET",
    "/enrolments",
    summary="Inscriptions (paginé)",
    scope=Scope.FAMILIES_READ,
    response=page_of(m.EnrolmentOut),
    params=PAGE_PARAMS,
)
def list_enrolments() -> Any:
    return api_page(m.EnrolmentOut, e.Enrollment)


@api_operation(
    "POST",
    "/enrolments",
    summary="Crée ou met à jour une inscription (clé : external_id)",
    scope=Scope.ENROLMENTS_WRITE,
    request_body=sync.EnrolmentRecord,
    response=m.UpsertResult,
)
def upsert_enrolment() -> Any:
    enrolment, outcome = sync.upsert_enrolment(request_uow(), body_as(sync.EnrolmentRecord))
    request_uow().flush()
    return m.UpsertResult(id=enrolment.id or 0, outcome=outcome.value)


@api_operation(
    "GET",
    "/events",
    summary="Flux d'événements après un curseur",
    scope=Scope.EVENTS_READ,
    response=m.EventFeed,
    params=(
        QueryParam(
            name="after",
            schema={"type": "integer", "minimum": 0, "maximum": MAX_ID - 1, "default": 0},
            description="Dernier id déjà lu.",
        ),
        QueryParam(
            name="limit",
            schema={"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            description="Événements au plus.",
        ),
    ),
)
def list_events() -> Any:
    after = int_arg("after", 0, 0, MAX_ID - 1)
    limit = int_arg("limit", 100, 1, 1000)
    rows = request_uow().find(e.DomainEvent, id=Gte(after + 1), order_by=("id",), limit=limit)
    items = [_event_out(row) for row in rows]
    return m.EventFeed(items=items, next_cursor=items[-1].id if items else after)


def _event_out(row: e.DomainEvent) -> m.EventOut:
    """An event as the ERP reads it: what changed and who changed it, out of the payload."""
    document = event_document(row)
    author = document["author"]
    return m.EventOut(
        **{k: document[k] for k in ("id", "kind", "entity", "entity_id", "family_id", "payload")},
        at=row.at,
        changes=[m.FieldChangeOut(**change) for change in document["changes"]],
        author=m.AuthorOut(**author) if author else None,
    )


CORE_OPERATIONS: tuple[Operation, ...] = (
    list_families,
    upsert_family,
    list_children,
    upsert_child,
    list_activities,
    list_enrolments,
    upsert_enrolment,
    list_events,
    *WEBHOOK_OPERATIONS,
)
"""The operations of the core's own records, present whatever the plugins."""


def operations_of(portal: Portal) -> list[Operation]:
    """The core's operations and those of the enabled plugins.

    :raises RuntimeError: two operations share a method and path, or an ``operationId``.
    """
    operations = list(CORE_OPERATIONS)
    for contributed in portal.hook.api_operations(portal=portal):
        operations.extend(contributed)
    routes: set[tuple[str, str]] = set()
    endpoints: set[str] = set()
    for op in operations:
        if (op.method, op.path) in routes or op.endpoint in endpoints:
            raise RuntimeError(f"two API operations are {op.method} {op.path} or {op.endpoint!r}")
        routes.add((op.method, op.path))
        endpoints.add(op.endpoint)
    return operations


@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return openapi_document(current_app.extensions[OPERATIONS_KEY])


def make_blueprint(operations: list[Operation]) -> Blueprint:
    """The ``/api/v1`` blueprint of one application: ``operations`` and the OpenAPI document."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    for op in operations:
        register(bp, op)
    bp.add_url_rule("/openapi.json", "openapi", openapi)
    return bp


def init_app(app: Flask, portal: Portal) -> Blueprint:
    """Register the API of ``portal``'s enabled plugins on ``app``; returns its blueprint."""
    operations = operations_of(portal)
    app.extensions[OPERATIONS_KEY] = operations
    bp = make_blueprint(operations)
    app.register_blueprint(bp)
    return bp
