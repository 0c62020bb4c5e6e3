"""Identifiers and dates from URLs, queries and forms, bounded to what the portal stores and
handles (docs/security.md point 14): a value out of range is a 404 or a French message, never
an error of the database (PostgreSQL's ``integer`` stops at 2³¹ − 1) or of Python's dates.

    app.url_map.converters["int"] = BoundedIntegerConverter   # every <int:…> of every route
    child_id = form_id(request.form.get("child_id"))            # 404 when absent or out of range
    day = form_day("day", request.form.get("day"), "Jour")      # ValidationFailed in French
    month = query_day(request.args.get("jour"))                 # None when invalid
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort
from werkzeug.routing import IntegerConverter, Map

from famille_core.clock import FIRST_DAY, LAST_DAY, handled_day
from famille_core.errors import ValidationFailed

MAX_ID = 2**31 - 1
"""The largest identifier the database stores (a 32-bit ``integer`` on PostgreSQL)."""


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in every route: an identifier above :data:`MAX_ID` matches no route (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def form_id(value: str | None) -> int:
    """An identifier sent by a form or a query: 404 when absent, not a number or out of
    range (it cannot name anything the person may see)."""
    try:
        number = int((value or "").strip())
    except ValueError:
        abort(404)
    if not 1 <= number <= MAX_ID:
        abort(404)
    return number


def optional_form_id(value: str | None) -> int | None:
    """:func:`form_id`, or ``None`` when the field is empty."""
    return form_id(value) if value else None


def query_day(value: str | None) -> date | None:
    """An ISO date from a query (navigation): ``None`` when absent, invalid or not handled."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if handled_day(day) else None


def form_day(field: str, value: str | None, label: str) -> date:
    """An ISO date typed in a form, or :class:`ValidationFailed` naming ``field`` in French."""
    from flask_babel import gettext as _

    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed.single(
            "invalid_date",
            _("%(label)s : date invalide (format attendu AAAA-MM-JJ).", label=label),
            field,
        ) from None
    if not handled_day(day):
        raise ValidationFailed.single(
            "date_out_of_range",
            _(
                "%(label)s : date hors de la période gérée (%(first)s–%(last)s).",
                label=label,
                first=FIRST_DAY.year,
                last=LAST_DAY.year,
            ),
            field,
        )
    return day
