"""French dates and sizes written without Babel's locale data read the same as Babel's
(famille_core/french.py; docs/deployment.md, "Memory of a worker")."""

from __future__ import annotations

import random
from datetime import date, timedelta

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal
from babel.units import format_unit

from famille_core import french


def test_days_and_months_read_as_babel_writes_them() -> None:
    assert tuple(get_day_names("wide", locale="fr")[day] for day in range(7)) == french.DAY_NAMES
    day = date(2024, 1, 1)
    while day < date(2029, 1, 1):
        assert french.long_day(day) == format_date(day, "EEEE d MMMM y", locale="fr")
        assert french.month_year(day) == format_date(day, "LLLL y", locale="fr")
        day += timedelta(days=1)
    assert french.long_day(date(2026, 3, 30)) == "lundi 30 mars 2026"


def test_sizes_read_as_babel_writes_them() -> None:
    for size in range(0, 2100):
        assert french.bytes_count(size) == format_unit(
            size, "digital-byte", length="long", locale="fr"
        )
    draw = random.Random(14)
    values = [size / 1024 for size in range(1024, 40_000)]
    values += [draw.randrange(1, 10**11) / 1024 for _ in range(20_000)]
    values += [draw.randrange(1, 10**11) / (1024 * 1024) for _ in range(20_000)]
    for value in values:
        assert french.number(value) == format_decimal(value, "#,##0.#", locale="fr"), value
