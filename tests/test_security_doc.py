"""docs/security.md is the project's own statement of its security requirements: every point the
code cites exists there, every test it names exists, and nothing points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
POINTS = 42
FOLDERS = ("famille_core", "host_flask", "plugins", "tests", "docs", "examples", "bench")

CITATION = re.compile(
    r"docs/security\.md\s+points?\s+(\d+(?:\s*(?:,|and|–|-)\s*\d+)*)", re.IGNORECASE
)


def _repository_files() -> list[Path]:
    """The project's code, tests and documentation."""
    found = [ROOT / "README.md"]
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".html", ".js", ".toml") and "__pycache__" not in path.parts:
                found.append(path)
    return found


def _joined(text: str) -> str:
    """The text with line breaks (and the comment or docstring margins after them) removed, so
    that a citation wrapped over two lines is read whole."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", text)


def cited_points(text: str) -> set[int]:
    """The point numbers cited as ``docs/security.md point N`` (lists and ranges included)."""
    points: set[int] = set()
    for match in CITATION.finditer(_joined(text)):
        for part in re.split(r"\s*(?:,|and)\s*", match.group(1)):
            bounds = [int(n) for n in re.split(r"\s*[–-]\s*", part)]
            points.update(range(bounds[0], bounds[-1] + 1))
    return points


def test_the_points_are_numbered_one_to_42_in_order() -> None:
    numbers = [int(n) for n in re.findall(r"^### (\d+)\. ", DOC.read_text(encoding="utf-8"), re.M)]
    assert numbers == list(range(1, POINTS + 1))


def test_every_point_cited_in_the_repository_exists() -> None:
    citing: dict[int, list[str]] = {}
    for path in _repository_files():
        if path in (DOC, Path(__file__)):
            continue
        for point in cited_points(path.read_text(encoding="utf-8")):
            citing.setdefault(point, []).append(str(path.relative_to(ROOT)))
    assert len(citing) >= 20, "too few citations found: the parser is probably broken"
    assert {p: files for p, files in citing.items() if not 1 <= p <= POINTS} == {}


def test_every_test_named_in_the_document_exists() -> None:
    named = re.findall(r"`([\w/]+\.py)::(\w+)`", DOC.read_text(encoding="utf-8"))
    assert len(named) > 100
    missing = [
        f"{file}::{name}"
        for file, name in named
        if not (ROOT / "tests" / file).exists()
        or not re.search(rf"def {name}\(", (ROOT / "tests" / file).read_text(encoding="utf-8"))
    ]
    assert missing == []


def test_nothing_points_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|shared/design|(?<![\w/])security\.md\s+\d")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _repository_files()
        if path != Path(__file__) and outside.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_citation_parser_reads_lists_ranges_and_wrapped_lines() -> None:
    assert cited_points("(docs/security.md points 1–6, 9, 16)") == {1, 2, 3, 4, 5, 6, 9, 16}
    assert cited_points("docs/security.md\n    # point 28") == {28}
    assert cited_points("docs/security.md points 18, 33 and 34") == {18, 33, 34}
    assert cited_points("docs/security.md point 99") == {99}
