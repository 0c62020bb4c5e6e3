"""How long each text of an ERP record may be: the length of the column that stores it
(``tests/core/test_record_limits.py`` checks they agree with the tables).

A longer text is refused with a field message before anything is written, the same on every
database (SQLite would store it whole, PostgreSQL refuse it).
"""

from __future__ import annotations

from typing import Any

from attrs import fields, has

from famille_core.errors import Issue

TEXT_LIMITS: dict[str, dict[str, int]] = {
    "FamilyRecord": {"external_id": 100, "family_number": 40, "name": 200},
    "GuardianRecord": {
        "last_name": 100,
        "first_name": 100,
        "civility": 20,
        "email": 254,
        "phone_mobile": 30,
        "address": 300,
        "postal_code": 10,
        "city": 100,
    },
    "ChildRecord": {
        "external_id": 100,
        "first_name": 100,
        "last_name": 100,
        "sex": 1,
        "school": 200,
        "class_level": 50,
    },
    "EnrolmentRecord": {"external_id": 100, "site": 200},
    "InvoiceRecord": {
        "external_id": 100,
        "number": 40,
        "reference": 40,
        "label": 200,
        "regie_code": 30,
    },
    "InvoiceLineRecord": {"label": 200},
}
"""Record class name → field → the most characters its column stores."""


def too_long(record: Any, prefix: str = "") -> list[Issue]:
    """An issue for each text of ``record`` (nested records and lists included) longer than
    its column; the field is named by its path (``responsable.postal_code``, ``lines.0.label``)."""
    issues = []
    limits = TEXT_LIMITS.get(type(record).__name__, {})
    for attribute in fields(type(record)):
        value = getattr(record, attribute.name)
        path = prefix + attribute.name
        limit = limits.get(attribute.name)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            issues.append(Issue("too_long", f"Ce champ dépasse {limit} caractères.", path))
        elif has(type(value)):
            issues += too_long(value, path + ".")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if has(type(item)):
                    issues += too_long(item, f"{path}.{index}.")
    return issues
