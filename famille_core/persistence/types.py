"""Column types that keep the domain exact: money in integer cents, instants in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from famille_core.money import from_cents, to_cents


class Hundredths(TypeDecorator[Decimal]):
    """An exact decimal with two places (tax shares, quantities), stored as an integer × 100."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("exact decimals are never floats")
        return to_cents(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_cents(int(value))


class Money(Hundredths):
    """``Decimal`` euros in Python, integer cents in the database (never a float)."""

    cache_ok = True


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes, stored as UTC (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StructuredJSON(TypeDecorator[Any]):
    """A JSON column holding attrs values (e.g. a list of vaccinations), through cattrs."""

    impl = JSON
    cache_ok = True

    def __init__(self, value_type: Any) -> None:
        super().__init__()
        self.value_type = value_type

    @property
    def _converter(self) -> Any:
        from famille_core.convert import make_converter

        converter = getattr(StructuredJSON, "_shared", None)
        if converter is None:
            converter = make_converter()
            StructuredJSON._shared = converter  # type: ignore[attr-defined]
        return converter

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self._converter.unstructure(value, self.value_type)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self._converter.structure(value, self.value_type)
