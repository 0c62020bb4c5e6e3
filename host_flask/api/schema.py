"""JSON Schema (OpenAPI 3.1 dialect) generated from the attrs classes the API validates with.

One source of truth: the classes that :func:`famille_core.structure` uses to validate requests
and to shape responses are the ones described in ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["4.15"]}


class SchemaRegistry:
    """Collects component schemas while describing types."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}

    def describe(self, tp: Any) -> dict[str, Any]:
        """The schema of ``tp`` (attrs classes become ``$ref`` to components)."""
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            members = [self.describe(arg) for arg in typing.get_args(tp)]
            return {"anyOf": members}
        if origin in (list, tuple, typing.Sequence) or tp in (list, tuple):
            args = typing.get_args(tp)
            return {"type": "array", "items": self.describe(args[0]) if args else {}}
        if origin is dict or tp is dict:
            return {"type": "object"}
        if tp is type(None):
            return {"type": "null"}
        if tp is Any:
            return {}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return {"type": "string", "enum": [member.value for member in tp]}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is str:
            return {"type": "string"}
        if tp is Decimal:
            return dict(DECIMAL)
        if tp is datetime:
            return {"type": "string", "format": "date-time"}
        if tp is date:
            return {"type": "string", "format": "date"}
        if attrs.has(tp):
            return self.component(tp)
        raise TypeError(f"no JSON schema for {tp!r}")

    def component(self, cls: type) -> dict[str, Any]:
        """Register ``cls`` as a component and return a reference to it."""
        name = cls.__name__
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursion-safe
            attrs.resolve_types(cls)
            properties = {}
            required = []
            for attribute in attrs.fields(cls):
                if attribute.name.startswith("_"):
                    continue
                properties[attribute.name] = self.describe(attribute.type)
                if attribute.default is attrs.NOTHING:
                    required.append(attribute.name)
            schema: dict[str, Any] = {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            }
            if required:
                schema["required"] = required
            if cls.__doc__:
                schema["description"] = cls.__doc__.strip().splitlines()[0]
            self.components[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}
