"""Reading lists through the API: pages, filters and periods of the query string, and the
page of entities shaped for the answer through the portal's converter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import attrs
from flask import request

from famille_core.clock import FIRST_DAY, LAST_DAY
from famille_core.convert import shape
from famille_core.uow import Between, UnitOfWork
from host_flask.api.framework import ApiError, QueryParam, int_arg
from host_flask.context import get_portal, request_uow
from host_flask.params import MAX_ID, query_day
from host_flask.problems import FieldError

PAGE_PARAMS = (
    QueryParam(
        name="page",
        schema={"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
        description="Page (1 = la première).",
    ),
    QueryParam(
        name="per_page",
        schema={"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
        description="Éléments par page.",
    ),
)
"""``page`` and ``per_page`` (see :func:`api_page`)."""

FAMILY_FILTER = (
    QueryParam(
        name="family_id",
        schema={"type": "integer", "minimum": 1, "maximum": MAX_ID},
        description="Une seule famille.",
    ),
)
"""``family_id``: one household's rows (see :func:`query_filters`)."""

EXTERNAL_FILTER = (
    QueryParam(name="external_id", schema={"type": "string"}, description="L'identifiant ERP."),
)
"""``external_id``: the row the ERP knows by this identifier."""

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
"""``from`` and ``to``, both required (see :func:`api_period`)."""

_PAGES: dict[type, type] = {}


def page_of(item: type) -> type:
    """The paginated envelope of ``item`` (one class per item type, named ``<Item>Page``)."""
    if item not in _PAGES:
        _PAGES[item] = attrs.make_class(
            item.__name__.removesuffix("Out") + "Page",
            {
                "items": attrs.field(type=list[item]),  # type: ignore[valid-type]
                "page": attrs.field(type=int),
                "per_page": attrs.field(type=int),
                "total": attrs.field(type=int),
            },
            frozen=True,
            kw_only=True,
        )
        _PAGES[item].__doc__ = f"A page of {item.__name__.removesuffix('Out').lower()} items."
    return _PAGES[item]


def query_filters(**kinds: str) -> dict[str, Any]:
    """Equality filters from the query string: ``query_filters(family_id="int")`` (a bounded
    identifier) or ``="str"`` (text); absent parameters filter nothing."""
    criteria: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in request.args:
            continue
        criteria[name] = int_arg(name, 0, 1, MAX_ID) if kind == "int" else request.args[name]
    return criteria


def day_arg(name: str) -> date:
    """A required date of the query string, or a 400 problem."""
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


def api_period(field: str = "day") -> dict[str, Any]:
    """The criterion ``field`` between the query's ``from`` and ``to`` (:data:`DATE_RANGE`); an
    inverted period is simply empty."""
    return {field: Between(day_arg("from"), day_arg("to"))}


def paginate(
    uow: UnitOfWork, cls: type, order: tuple[str, ...] = ("id",), **criteria: Any
) -> tuple[list[Any], dict[str, int]]:
    """One page of ``cls`` rows (:data:`PAGE_PARAMS`) and the envelope's counts."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 100, 1, 500)
    rows: list[Any] = uow.find(
        cls, order_by=order, limit=per_page, offset=(page - 1) * per_page, **criteria
    )
    return rows, {"page": page, "per_page": per_page, "total": uow.count(cls, **criteria)}


def api_page(
    out: type,
    entity: type,
    order: tuple[str, ...] = ("id",),
    *,
    derived: Callable[[UnitOfWork, list[Any]], list[dict[str, Any]]] | None = None,
    **criteria: Any,
) -> Any:
    """A page of the ``entity`` rows matching ``criteria``, each shaped as ``out`` from the
    entity's attributes of the same names (:func:`famille_core.convert.shape`); ``derived``
    gives, for the page's rows, the values of ``out``'s fields the entity does not hold."""
    uow = request_uow()
    rows, counts = paginate(uow, entity, order, **criteria)
    converter = get_portal().converter
    extra = derived(uow, rows) if derived is not None else [{} for _ in rows]
    items: list[Any] = [shape(converter, row, out, **values) for row, values in zip(rows, extra, strict=True)]
    return page_of(out)(items=items, **counts)
