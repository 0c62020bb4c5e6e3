"""French day and month names, dates and file sizes written without Babel's locale data.

Every date a page shows in French (``lundi 30 mars 2026``, ``novembre 2026``, the Agenda's
weekday names) and the file sizes of the inbox (``65 octets``, ``1,2 Ko``) need nineteen words
and two separators; loading Babel's French locale data for them costs about 5 MB in each web
worker (docs/deployment.md, "Memory of a worker"). The texts are CLDR's, the same Babel gives
(``tests/core/test_french.py`` compares them with Babel's for every day of several years and for
thousands of sizes); other languages still go through Babel.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
"""Monday first, as ``date.weekday()``."""

MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

GROUP = "\N{NARROW NO-BREAK SPACE}"
"""CLDR's French thousands separator."""


def long_day(day: date) -> str:
    """``"lundi 30 mars 2026"`` (Babel's ``EEEE d MMMM y`` in French)."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def month_year(day: date) -> str:
    """``"novembre 2026"`` (Babel's ``LLLL y`` in French)."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def _grouped(whole: int) -> str:
    return f"{whole:,}".replace(",", GROUP)


def number(value: float) -> str:
    """``1,2``, ``12 345,5`` (Babel's ``#,##0.#`` in French: one decimal at most, rounded half
    to even, the narrow no-break space between thousands)."""
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    whole, tenths = divmod(int(rounded * 10), 10)
    return _grouped(whole) + (f",{tenths}" if tenths else "")


def bytes_count(size: int) -> str:
    """``0 octet``, ``1 octet``, ``65 octets``, ``1 023 octets`` (Babel's long
    ``digital-byte`` unit in French: singular for 0 and 1)."""
    return f"{_grouped(size)}\N{NO-BREAK SPACE}{'octet' if size < 2 else 'octets'}"
