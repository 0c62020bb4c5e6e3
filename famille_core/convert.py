"""One cattrs converter for every edge (forms, JSON, CSV imports, configuration).

Use :func:`make_converter` to build it (the portal keeps one) and :func:`structure` to turn
untrusted data into an attrs instance or a :class:`~famille_core.errors.ValidationFailed` with
one French message per field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.preconf.json import make_converter as make_json_converter

from famille_core.clock import FIRST_DAY, LAST_DAY, handled_day
from famille_core.errors import Issue, ValidationFailed

T = TypeVar("T")

_PATH = re.compile(r"^(?P<msg>.*) @ \$(?P<path>.*)$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Invisible characters no person types (tab and line breaks excepted); NUL cannot be stored."""


def _structure_decimal(value: Any, _type: type) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float):
        # JSON numbers arrive as floats: go through their shortest repr, never binary.
        value = repr(value)
    if isinstance(value, str):
        value = value.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError("not a number") from exc
    if not result.is_finite():
        raise ValueError("not a number")
    return result


DAY_OUT_OF_RANGE = "date out of the handled range"


def _structure_date(value: Any, _type: type) -> date:
    if isinstance(value, datetime):
        raise ValueError("not a date")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        day = date.fromisoformat(value.strip())
    else:
        raise ValueError("not a date")
    if not handled_day(day):
        raise ValueError(DAY_OUT_OF_RANGE)
    return day


def _structure_datetime(value: Any, _type: type) -> datetime:
    result = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if result.tzinfo is None:
        raise ValueError("naive datetime")
    return result


def _structure_str(value: Any, _type: type) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError("not a text")
    text = str(value)
    if CONTROL_CHARACTERS.search(text):
        raise ValueError("control character")
    return text


def _structure_bool(value: Any, _type: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "on", "oui", "y", "yes"}:
        return True
    if isinstance(value, str) and value.lower() in {"", "0", "false", "off", "non", "n", "no"}:
        return False
    raise ValueError("not a boolean")


def _unstructure_datetime(value: datetime) -> str:
    """Every instant leaves the portal in UTC (``…+00:00``), whether it was just set (in Paris
    time) or read back from the database, so that one instant is always one string."""
    return value.astimezone(UTC).isoformat()


def make_converter() -> cattrs.Converter:
    """Build the project's converter: exact decimals, ISO dates, aware datetimes, no extra keys."""
    converter = make_json_converter(forbid_extra_keys=True)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    return converter


def _french(exc: BaseException, _type: type | None) -> str:
    if isinstance(exc, KeyError):
        return "Ce champ est obligatoire."
    if isinstance(exc, ForbiddenExtraKeysError):
        return "Champ(s) non autorisé(s) : " + ", ".join(sorted(exc.extra_fields)) + "."
    if str(exc) == DAY_OUT_OF_RANGE:
        return f"Date hors de la période gérée ({FIRST_DAY.year}–{LAST_DAY.year})."
    if _type is date or ("date" in str(exc).lower() and "iso" in str(exc).lower()):
        return "Date invalide (format attendu : AAAA-MM-JJ)."
    if _type is datetime:
        return "Date et heure invalides."
    if _type is Decimal or _type is int or _type is float:
        return "Nombre invalide."
    if _type is bool:
        return "Valeur oui/non invalide."
    if str(exc) == "control character":
        return "Ce texte contient un caractère invisible non autorisé."
    if isinstance(exc, ValueError) and exc.args and _type is None:
        # An attrs validator's reason, which names the attribute.
        return f"Valeur invalide ({exc.args[0]})."
    return "Valeur invalide."


def issues_from(exc: Exception) -> list[Issue]:
    """Turn a cattrs structuring error into field-level issues with French messages."""
    issues = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_french):
        match = _PATH.match(line)
        message, path = (match["msg"], match["path"]) if match else (line, "")
        field = path.lstrip(".").replace("[", ".").replace("]", "").replace("'", "") or None
        issues.append(Issue(code="invalid", message=message, field=field))
    return issues


def structure(converter: cattrs.Converter, data: Any, cls: type[T]) -> T:
    """Structure ``data`` into ``cls`` or raise :class:`ValidationFailed` with field issues."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            raise ValidationFailed(issues_from(exc)) from exc
        raise ValidationFailed([Issue(code="invalid", message=_french(exc, cls))]) from exc


def shape(converter: cattrs.Converter, source: object, cls: type[T], **values: Any) -> T:
    """An instance of the attrs class ``cls`` made from the attributes of ``source`` with the
    same names (an entity shaped for the API or an export), ``values`` taking precedence.

    The values go through ``converter`` both ways, so the result is what a client of ``cls``
    reads: enumerations as their values, exact decimals, aware datetimes; a value that does not
    fit ``cls`` is a programming error (:class:`cattrs.BaseValidationError`), never a client's.
    """
    data = {
        attribute.name: values[attribute.name]
        if attribute.name in values
        else getattr(source, attribute.name)
        for attribute in attrs.fields(cls)  # type: ignore[arg-type]
    }
    return converter.structure(converter.unstructure(data), cls)
