"""Bulk import from the ERP (CSV or JSON) and the writing of ``famille export``'s rows (each kind
comes from the plugin that owns the records, through ``export_kinds``).

CSV columns are the record's field names; nested fields use dots (``responsable.last_name``);
list fields use ``|`` (``families``: ``ERP-1|ERP-2``); invoice lines are one CSV row each
(``line.label``, ``line.unit_price``, ``line.quantity``) with the invoice's columns repeated.
"""

from __future__ import annotations

import csv
import gc
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import define, field

from famille_core.convert import structure
from famille_core.errors import Conflict, ValidationFailed
from famille_core.hooks.results import ExportKind
from famille_core.services import invitations
from famille_core.services.payments import PaymentInProgress
from famille_core.services.sync import UPSERTS, FamilyIndex, Outcome, family_index
from famille_core.spreadsheet import csv_text
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal


@define
class RowError:
    """Why one row was rejected."""

    line: int
    field: str | None
    message: str


@define
class ImportReport:
    """What an import did (or would do, for a dry run)."""

    kind: str
    dry_run: bool
    counts: dict[str, int] = field(factory=lambda: {o.value: 0 for o in Outcome} | {"rejected": 0})
    errors: list[RowError] = field(factory=list)


def _nest(flat: dict[str, str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if key is None or value is None:
            continue
        value = value.strip()
        if value == "":
            continue
        target = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


def read_rows(kind: str, text: str, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows as ``(line number, data)``; CSV lines count from 2 (after the header)."""
    if fmt == "json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValidationFailed.single(
                "format", "Le fichier JSON doit contenir une liste d'objets."
            )
        return list(enumerate(data, start=1))
    rows = [
        (number, _nest(row))
        for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2)
    ]
    for _, row in rows:
        if kind == "children" and isinstance(row.get("families"), str):
            row["families"] = [part.strip() for part in row["families"].split("|") if part.strip()]
    if kind != "invoices":
        return rows
    grouped: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, row in rows:
        line = row.pop("line", None)
        key = str(row.get("external_id", f"line-{number}"))
        first = grouped.setdefault(key, (number, {**row, "lines": []}))
        if line:
            first[1]["lines"].append(line)
    return list(grouped.values())


def import_rows(
    portal: Portal,
    uow: UnitOfWork,
    kind: str,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and upsert each row; rejected rows are reported and change nothing.

    The caller commits (or, for a dry run, this function rolls back).
    """
    record_class, upsert = UPSERTS[kind]
    report = ImportReport(kind=kind, dry_run=dry_run)
    rows = list(rows)
    known: dict[str, FamilyIndex] = {}
    # Invitations need each household's guardians at once: then households are written one by one.
    defer = not portal.settings.portal.invite_imported_guardians
    for index, (line, data) in enumerate(rows, start=1):
        if kind == "families" and index % PREFETCH_ROWS == 1:
            # The next rows' households in three queries, not three per row.
            if "index" in known:
                known["index"].settle(uow)
            chunk = rows[index - 1 : index - 1 + PREFETCH_ROWS]
            known["index"] = family_index(
                uow, [d for _line, d in chunk if isinstance(d, dict)], defer=defer
            )
        try:
            record: Any = structure(portal.converter, data, record_class)
            entity, outcome = upsert(uow, record, **known)
            if kind == "families" and not dry_run:
                invitations.invite_imported(portal, uow, entity)
            report.counts[outcome.value] += 1
        except ValidationFailed as exc:
            report.counts["rejected"] += 1
            report.errors.extend(RowError(line, issue.field, issue.message) for issue in exc.issues)
        except PaymentInProgress as exc:  # raised before anything changed
            report.counts["rejected"] += 1
            report.errors.append(RowError(line, None, exc.message))
        if index % 500 == 0:
            uow.flush()
        if progress is not None:
            progress(1)
    if "index" in known:
        known["index"].settle(uow)
    if dry_run:
        uow.rollback()
    return report


PREFETCH_ROWS = 500
"""Rows whose households :func:`import_rows` reads together (``families``)."""

BATCH_ROWS = 500
"""Rows committed together by :func:`import_batches`."""

BATCH_ATTEMPTS = 3
"""How many times a batch that lost a race with another writer is tried."""

COLLECT_EVERY = 50_000
"""During an import, Python's cyclic garbage collector looks at its youngest objects every
this many new container objects instead of every 700 (its default): an import makes millions
of short-lived objects that reference counting frees, and the collections cost about an eighth
of a 10,000-family import's CPU time (bench/README.md, import section)."""


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage every :data:`COLLECT_EVERY` new objects inside the block, then
    restore the collector's thresholds."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(COLLECT_EVERY, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def import_batches(
    portal: Portal,
    kind: str,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import ``rows``, committing every ``batch_rows`` rows; the report lists every rejected
    line, whatever its batch.

    Committed batches keep the database open to everyone during a long import (each
    transaction is short, so no booking or payment waits for the import), and what was
    committed stays if a later batch fails: importing the same file again finishes the work
    (upserts change nothing twice). A batch that loses a race with another writer (a deadlock,
    a key taken meanwhile) is tried again; after :data:`BATCH_ATTEMPTS` its lines are reported
    rejected. A dry run is one transaction, rolled back: nothing is written.
    """
    with _fewer_collections():
        return _import_all(portal, kind, list(rows), dry_run=dry_run, progress=progress, batch_rows=batch_rows)


def _import_all(
    portal: Portal,
    kind: str,
    rows: list[tuple[int, dict[str, Any]]],
    *,
    dry_run: bool,
    progress: Callable[[int], None] | None,
    batch_rows: int,
) -> ImportReport:
    if dry_run:
        with portal.unit_of_work() as uow:
            return import_rows(portal, uow, kind, rows, dry_run=True, progress=progress)
    report = ImportReport(kind=kind, dry_run=False)
    for start in range(0, len(rows), batch_rows):
        batch = rows[start : start + batch_rows]
        part = _import_batch(portal, kind, batch)
        for name, count in part.counts.items():
            report.counts[name] += count
        report.errors.extend(part.errors)
        if progress is not None:
            progress(len(batch))
    return report


def _import_batch(portal: Portal, kind: str, batch: list[tuple[int, dict[str, Any]]]) -> ImportReport:
    reason = ""
    for _attempt in range(BATCH_ATTEMPTS):
        try:
            with portal.unit_of_work() as uow:
                part = import_rows(portal, uow, kind, batch)
                uow.commit()
            return part
        except Conflict as exc:
            reason = exc.message
    failed = ImportReport(kind=kind, dry_run=False)
    failed.counts["rejected"] = len(batch)
    failed.errors = [
        RowError(line, None, f"Lot non importé, réimportez le fichier : {reason}")
        for line, _ in batch
    ]
    return failed


def import_file(
    portal: Portal,
    kind: str,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV or JSON file (by its extension), in committed batches."""
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    rows = read_rows(kind, path.read_text(encoding="utf-8-sig"), fmt)
    return import_batches(portal, kind, rows, dry_run=dry_run, progress=progress)


def import_text(
    portal: Portal, kind: str, text: str, fmt: str, *, dry_run: bool = False
) -> ImportReport:
    """The task queue's ``imports.run`` job (``famille import --background``): the file's text
    read and imported in committed batches; the report, every rejected line with it, is the
    job's result."""
    return import_batches(portal, kind, read_rows(kind, text, fmt), dry_run=dry_run)


def export_kinds_of(portal: Portal) -> dict[str, ExportKind]:
    """What ``famille export`` can write: the enabled plugins' ``export_kinds``, by name.

    :raises ConfigurationError: two plugins give the same kind.
    """
    from famille_core.hooks import by_name

    return by_name(portal.hook.export_kinds(portal=portal), "Deux plugins exportent « {name} ».")


def write_export(rows: Iterable[Mapping[str, Any]], fmt: str) -> str:
    """Rows as CSV (safe to open in a spreadsheet) or JSON text."""
    table = [dict(row) for row in rows]
    if fmt == "json":
        return json.dumps(table, ensure_ascii=False, indent=2)
    if not table:
        return ""
    return csv_text(list(table[0]), ([row[name] for name in table[0]] for row in table))
