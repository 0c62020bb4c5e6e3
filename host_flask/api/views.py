"""The API's resources."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from famille_core import entities as e
from famille_core import notify_family
from famille_core.clock import FIRST_DAY, LAST_DAY
from famille_core.entities import Scope
from famille_core.services import sync
from famille_core.uow import Between, Gte, In, UnitOfWork
from host_flask.access import public
from host_flask.api import models as m
from host_flask.api.framework import (
    PAGE_PARAMS,
    ApiError,
    QueryParam,
    body_as,
    int_arg,
    operation,
)
from host_flask.api.openapi import openapi_document
from host_flask.context import get_portal, request_uow
from host_flask.params import MAX_ID, query_day
from host_flask.problems import FieldError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

FAMILY_FILTER = (
    QueryParam(
        name="family_id",
        schema={"type": "integer", "minimum": 1, "maximum": MAX_ID},
        description="Une seule famille.",
    ),
)
EXTERNAL_FILTER = (
    QueryParam(name="external_id", schema={"type": "string"}, description="L'identifiant ERP."),
)


def _filters(**kinds: str) -> dict[str, Any]:
    """Equality filters from the query string (``family_id``: integer, others: text)."""
    criteria: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in request.args:
            continue
        criteria[name] = int_arg(name, 0, 1, MAX_ID) if kind == "int" else request.args[name]
    return criteria


DATE_RANGE = (
    QueryParam(
        name="from",
        schema={"type": "string", "format": "date"},
        description="Premier jour (inclus).",
        required=True,
    ),
    QueryParam(
        name="to",
        schema={"type": "string", "format": "date"},
        description="Dernier jour (inclus).",
        required=True,
    ),
)


def _paginate(
    uow: UnitOfWork, cls: type, order: tuple[str, ...] = ("id",), **criteria: Any
) -> tuple[list[Any], dict[str, int]]:
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 100, 1, 500)
    rows: list[Any] = uow.find(
        cls, order_by=order, limit=per_page, offset=(page - 1) * per_page, **criteria
    )
    return rows, {"page": page, "per_page": per_page, "total": uow.count(cls, **criteria)}


def _date_arg(name: str) -> date:
    day = query_day(request.args.get(name, ""))
    if day is None:
        raise ApiError(
            400,
            "parametre-invalide",
            "Paramètre invalide",
            f"« {name} » doit être une date AAAA-MM-JJ entre {FIRST_DAY} et {LAST_DAY}.",
            [FieldError(field=name, code="invalid", message="Date invalide.")],
        )
    return day


def _range() -> dict[str, Any]:
    # An inverted period is simply empty.
    return {"day": Between(_date_arg("from"), _date_arg("to"))}


@operation(
    bp,
    "GET",
    "/families",
    summary="Familles (paginé)",
    scope=Scope.FAMILIES_READ,
    response=m.page_of(m.FamilyOut),
    params=PAGE_PARAMS + EXTERNAL_FILTER,
)
def list_families() -> Any:
    uow = request_uow()
    families, page = _paginate(uow, e.Family, **_filters(external_id="str"))
    guardians = (
        uow.find(e.Guardian, family_id=In([f.id for f in families]), order_by=("role",))
        if families
        else []
    )
    by_family: dict[int, list[e.Guardian]] = {}
    for guardian in guardians:
        by_family.setdefault(guardian.family_id, []).append(guardian)
    return m.page_of(m.FamilyOut)(
        items=[m.family_out(f, by_family.get(f.id or 0, [])) for f in families], **page
    )


@operation(
    bp,
    "POST",
    "/families",
    summary="Crée ou met à jour une famille (clé : external_id)",
    scope=Scope.FAMILIES_WRITE,
    request_body=sync.FamilyRecord,
    response=m.UpsertResult,
)
def upsert_family() -> Any:
    family, outcome = sync.upsert_family(request_uow(), body_as(sync.FamilyRecord))
    request_uow().flush()
    return m.UpsertResult(id=family.id or 0, outcome=outcome.value)


@operation(
    bp,
    "GET",
    "/children",
    summary="Enfants (paginé)",
    scope=Scope.FAMILIES_READ,
    response=m.page_of(m.ChildOut),
    params=PAGE_PARAMS + EXTERNAL_FILTER,
)
def list_children() -> Any:
    uow = request_uow()
    children, page = _paginate(uow, e.Child, **_filters(external_id="str"))
    links = uow.find(e.FamilyChild, child_id=In([c.id for c in children])) if children else []
    families: dict[int, list[int]] = {}
    for link in links:
        families.setdefault(link.child_id, []).append(link.family_id)
    items = [
        m.ChildOut(
            id=c.id or 0,
            external_id=c.external_id,
            first_name=c.first_name,
            last_name=c.last_name,
            birth_date=c.birth_date,
            school=c.school,
            class_level=c.class_level,
            families=sorted(families.get(c.id or 0, [])),
        )
        for c in children
    ]
    return m.page_of(m.ChildOut)(items=items, **page)


@operation(
    bp,
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


@operation(
    bp,
    "GET",
    "/activities",
    summary="Activités",
    scope=Scope.FAMILIES_READ,
    response=list[m.ActivityOut],
)
def list_activities() -> Any:
    return [
        m.ActivityOut(
            id=a.id or 0,
            code=a.code,
            label=a.label,
            service=a.service,
            capacity=a.capacity,
            policy=a.policy.value,
            unit_price=a.unit_price,
        )
        for a in request_uow().find(e.Activity, order_by=("code",))
    ]


@operation(
    bp,
    "GET",
    "/enrolments",
    summary="Inscriptions (paginé)",
    scope=Scope.FAMILIES_READ,
    response=m.page_of(m.EnrolmentOut),
    params=PAGE_PARAMS,
)
def list_enrolments() -> Any:
    rows, page = _paginate(request_uow(), e.Enrollment)
    items = [
        m.EnrolmentOut(
            id=r.id or 0,
            external_id=r.external_id,
            child_id=r.child_id,
            family_id=r.family_id,
            activity_id=r.activity_id,
            start_date=r.start_date,
            end_date=r.end_date,
            site=r.site,
        )
        for r in rows
    ]
    return m.page_of(m.EnrolmentOut)(items=items, **page)


@operation(
    bp,
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


@operation(
    bp,
    "GET",
    "/reservations",
    summary="Réservations d'une période (paginé)",
    scope=Scope.AGENDA_READ,
    response=m.page_of(m.ReservationOut),
    params=DATE_RANGE + PAGE_PARAMS + FAMILY_FILTER,
)
def list_reservations() -> Any:
    rows, page = _paginate(
        request_uow(), e.Reservation, ("day", "id"), **_range(), **_filters(family_id="int")
    )
    items = [
        m.ReservationOut(
            id=r.id or 0,
            child_id=r.child_id,
            family_id=r.family_id,
            activity_id=r.activity_id,
            day=r.day,
            state=r.state.value,
            created_at=r.created_at,
            decided_at=r.decided_at,
        )
        for r in rows
    ]
    return m.page_of(m.ReservationOut)(items=items, **page)


@operation(
    bp,
    "GET",
    "/absences",
    summary="Absences d'une période (paginé)",
    scope=Scope.AGENDA_READ,
    response=m.page_of(m.AbsenceOut),
    params=DATE_RANGE + PAGE_PARAMS + FAMILY_FILTER,
)
def list_absences() -> Any:
    rows, page = _paginate(
        request_uow(), e.Absence, ("day", "id"), **_range(), **_filters(family_id="int")
    )
    items = [
        m.AbsenceOut(
            id=r.id or 0,
            child_id=r.child_id,
            family_id=r.family_id,
            activity_id=r.activity_id,
            day=r.day,
            reason_code=r.reason_code,
            reason_label=r.reason_label,
            billable=r.billable,
            created_at=r.created_at,
        )
        for r in rows
    ]
    return m.page_of(m.AbsenceOut)(items=items, **page)


@operation(
    bp,
    "GET",
    "/invoices",
    summary="Factures avec leurs lignes (paginé)",
    scope=Scope.INVOICES_READ,
    response=m.page_of(m.InvoiceOut),
    params=PAGE_PARAMS + FAMILY_FILTER,
)
def list_invoices() -> Any:
    uow = request_uow()
    invoices, page = _paginate(uow, e.Invoice, **_filters(family_id="int"))
    lines = (
        uow.find(e.InvoiceLine, invoice_id=In([i.id for i in invoices]), order_by=("id",))
        if invoices
        else []
    )
    by_invoice: dict[int, list[m.InvoiceLineOut]] = {}
    for line in lines:
        by_invoice.setdefault(line.invoice_id or 0, []).append(
            m.InvoiceLineOut(
                label=line.label,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
        )
    items = [
        m.InvoiceOut(
            id=i.id or 0,
            external_id=i.external_id,
            family_id=i.family_id,
            number=i.number,
            reference=i.reference,
            issue_date=i.issue_date,
            due_date=i.due_date,
            total=i.total,
            paid_amount=i.paid_amount,
            balance=i.balance,
            status=i.status.value,
            lines=by_invoice.get(i.id or 0, []),
        )
        for i in invoices
    ]
    return m.page_of(m.InvoiceOut)(items=items, **page)


@operation(
    bp,
    "POST",
    "/invoices",
    summary="Crée ou met à jour une facture (clé : external_id)",
    scope=Scope.INVOICES_WRITE,
    request_body=sync.InvoiceRecord,
    response=m.UpsertResult,
)
def upsert_invoice() -> Any:
    invoice, outcome = sync.upsert_invoice(request_uow(), body_as(sync.InvoiceRecord))
    request_uow().flush()
    return m.UpsertResult(id=invoice.id or 0, outcome=outcome.value)


@operation(
    bp,
    "GET",
    "/payments",
    summary="Paiements en ligne (paginé)",
    scope=Scope.PAYMENTS_READ,
    response=m.page_of(m.PaymentOut),
    params=PAGE_PARAMS + FAMILY_FILTER,
)
def list_payments() -> Any:
    rows, page = _paginate(request_uow(), e.PaymentTransaction, **_filters(family_id="int"))
    items = [
        m.PaymentOut(
            id=p.id or 0,
            invoice_id=p.invoice_id,
            family_id=p.family_id,
            provider=p.provider,
            amount=p.amount,
            state=p.state.value,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in rows
    ]
    return m.page_of(m.PaymentOut)(items=items, **page)


@operation(
    bp,
    "POST",
    "/messages",
    summary="Envoie un message système à une famille",
    scope=Scope.MESSAGES_WRITE,
    request_body=m.MessageIn,
    response=m.Created,
    status=201,
)
def post_message() -> Any:
    message = body_as(m.MessageIn)
    uow = request_uow()
    family = uow.first(e.Family, external_id=message.family)
    if family is None or family.id is None:
        raise ApiError(
            422,
            "validation",
            "Données invalides",
            "Famille inconnue.",
            [FieldError(field="family", code="unknown_family", message="Famille inconnue.")],
        )
    if not message.subject.strip() or len(message.subject) > 200:
        raise ApiError(
            422,
            "validation",
            "Données invalides",
            "Objet invalide.",
            [
                FieldError(
                    field="subject",
                    code="invalid",
                    message="L'objet doit faire de 1 à 200 caractères.",
                )
            ],
        )
    message_id = notify_family(
        get_portal(), uow, family.id, message.subject, message.body, service=message.service
    )
    if message_id is None:
        raise ApiError(
            409,
            "boite-desactivee",
            "Boîte de réception désactivée",
            "Aucun plugin de messagerie n'est activé sur ce portail.",
        )
    return m.Created(id=message_id)


@operation(
    bp,
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
    items = [
        m.EventOut(
            id=r.id or 0,
            at=r.at,
            kind=r.kind,
            entity=r.entity,
            entity_id=r.entity_id,
            family_id=r.family_id,
            payload=r.payload,
        )
        for r in rows
    ]
    return m.EventFeed(items=items, next_cursor=items[-1].id if items else after)


@bp.route("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return openapi_document()
