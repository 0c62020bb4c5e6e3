"""CSV files the portal writes, safe to open in a spreadsheet (docs/security.md point 15).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
also after a leading TAB or carriage return): a name typed by a family or sent by an ERP could
then call a URL or a command on an agent's computer (OWASP "CSV injection"). Every CSV the portal
writes goes through :func:`csv_text`, which prefixes such text cells with an apostrophe so they are
shown as typed. Numbers stay numbers: an ``int`` or ``Decimal`` (a negative amount), or a text
that is exactly a number (``"-12.50"``), is written unchanged.

    csv_text(["Date", "Activité"], rows, delimiter=";")
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula."""

_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet must show it: a text that could run as a formula is prefixed
    with ``'``; numbers (and texts that are exactly a number) are kept as they are."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ","
) -> str:
    """``header`` then ``rows`` as CSV text, every cell through :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
