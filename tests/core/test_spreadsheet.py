"""CSV injection (docs/security.md point 15): every CSV the portal writes shows text as typed,
never as a formula, and keeps numbers readable as numbers."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from famille_core.spreadsheet import csv_text, safe_cell

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "typed",
    [
        "=HYPERLINK(\"http://evil.example\",\"Cliquez\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "-",
        "+33 6 12 34 56 78",
    ],
)
def test_text_that_could_run_is_shown_as_typed(typed: str) -> None:
    assert safe_cell(typed) == "'" + typed
    parsed = next(csv.reader(io.StringIO(csv_text([typed], []))))
    assert parsed == ["'" + typed]


@pytest.mark.parametrize(
    "value", [Decimal("-12.50"), -3, 4.5, "-12.50", "-12,50", "+33612345678", "Dupont", "", None]
)
def test_numbers_and_plain_text_are_unchanged(value: object) -> None:
    assert safe_cell(value) == value


def test_every_csv_writer_of_the_portal_goes_through_the_neutraliser() -> None:
    """One neutraliser: no module writes CSV with the csv module directly."""
    writers = re.compile(r"csv\.(writer|DictWriter)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("famille_core", "host_flask", "plugins", "examples")
        for path in (ROOT / folder).rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8"))
        and path != ROOT / "famille_core" / "spreadsheet.py"
    ]
    assert offenders == []
