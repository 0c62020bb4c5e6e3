"""A city's worth of data, for the benches: the demo plus 10,000 households at scale 1.

What it builds (``--scale 1``, the issue's size): the demo (so the demo logins work and the
benches measure the same pages as on the demo), then 10,000 families with 15,000 guardians and
15,000 children, their enrolments, a school year of bookings (every open canteen day for every
child, the morning club for a third of them: about 3 million reservation rows), 50,000 threads of
two messages (100,000 messages) and 120,000 invoices with one line each. Rows go in with bulk
inserts (PostgreSQL ``COPY``, SQLite ``executemany`` in one transaction), so the whole city takes
minutes. The activities' capacities are raised to the city's size (the demo's 120 places would
make every day full).

Reproduce::

    .venv/bin/python bench/city.py --scale 0.05                       # a small town, SQLite, seconds
    createdb -h 127.0.0.1 -U postgres city
    .venv/bin/python bench/city.py --database postgresql://postgres@127.0.0.1:5432/city  # full size

The SQLite file goes to ``--sqlite`` (default ``city.sqlite`` in a temporary folder); a
PostgreSQL database given here is emptied first. Prints the rows of each table and the time taken,
then the URL to give the other benches (``--database``).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, text, update

from famille_core import settings_from_mapping
from famille_core.demo import populate, school_year
from famille_core.entities import Activity
from famille_core.persistence import build_sql_portal, page_versions, upgrade_database
from famille_core.persistence import tables as t
from famille_plugins.calendar.services.calendar_days import closed_days_for

FULL = {"families": 10_000, "children": 15_000, "threads": 50_000, "invoices": 120_000}
"""The city at ``--scale 1`` (two messages a thread: 100,000 messages)."""

CHUNK = 20_000


def _prepare(url: str, instance: Path) -> Any:
    """An empty, migrated database holding the demo; its portal."""
    from server_apps import empty_postgresql
    from server_bench import CONFIG

    if url.startswith("postgresql"):
        empty_postgresql(url)
    upgrade_database(url)
    portal = build_sql_portal(settings_from_mapping(tomllib.loads(CONFIG)), url, instance_path=instance)
    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
    return portal


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _bulk(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (values already as stored: cents, naive UTC, enum values) into ``table``;
    the other columns take their scalar defaults."""
    defaults = tuple(
        (column.name, column.default.arg)  # type: ignore[attr-defined]
        for column in table.columns
        if column.name not in columns and column.default is not None and column.default.is_scalar
    )
    if defaults:
        extra = tuple(value for _name, value in defaults)
        columns = (*columns, *(name for name, _value in defaults))
        rows = (row + extra for row in rows)
    raw = connection.connection.driver_connection
    count = 0
    if connection.dialect.name == "postgresql":
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy_value(v) for v in row))
                buffer.write("\n")
                count += 1
                if count % CHUNK == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        return count
    compiled = table.insert().compile(dialect=connection.dialect, column_keys=list(columns))
    order = [list(columns).index(name) for name in compiled.positiontup or ()]  # the table's order
    statement = str(compiled)
    cursor = raw.cursor()  # type: ignore[union-attr]
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in (row[i] for i in order)))
        if len(batch) == CHUNK:
            cursor.executemany(statement, batch)
            count += len(batch)
            batch = []
    cursor.executemany(statement, batch)
    return count + len(batch)


def _next_id(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _sync_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL: the id sequences continue after the rows inserted with explicit ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        highest = select(func.max(table.c.id)).scalar_subquery()
        connection.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


def _open_days(portal: Any, activity: Activity, start: date, end: date) -> list[date]:
    assert activity.id is not None
    closed = closed_days_for(portal, [activity], start, end)[activity.id]
    days, day = [], start
    while day <= end:
        if day not in closed:
            days.append(day)
        day += timedelta(days=1)
    return days


def build(url: str, scale: float, instance: Path) -> None:
    """Build the city at ``url``."""
    started = time.perf_counter()
    portal = _prepare(url, instance)
    size = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    now = datetime.now(UTC).replace(tzinfo=None)
    today = now.date()
    start, end = school_year(today)
    with portal.unit_of_work() as uow:
        activities = {a.code: a for a in uow.find(Activity)}
        cantine, matin = activities["CANTINE"], activities["MATIN"]
        canteen_days = _open_days(portal, cantine, start, end)
        morning_days = _open_days(portal, matin, start, end)
    counts: dict[str, int] = {}
    engine = portal.storage
    with engine.begin() as connection:
        connection.execute(update(t.activity).values(capacity=size["children"] + 100))
        f0, g0, c0 = _next_id(connection, t.family), _next_id(connection, t.guardian), _next_id(connection, t.child)
        families = range(f0, f0 + size["families"])
        counts["family"] = _bulk(
            connection,
            t.family,
            ("id", "family_number", "name", "external_id", "created_at", "version"),
            ((i, f"CITY{i:08d}", f"FAMILLE{i}", f"CITY-{i}", now, 1) for i in families),
        )

        def guardians() -> Iterator[tuple[Any, ...]]:
            gid = g0
            for n, family_id in enumerate(families):
                for role in ("primary", "second") if n % 2 else ("primary",):
                    yield (gid, family_id, role, "", f"NOM{family_id}", f"Prénom{gid}", "", "", "",
                           "", "", "", f"g{gid}@city.example", "", "", 1)
                    gid += 1

        counts["guardian"] = _bulk(
            connection,
            t.guardian,
            ("id", "family_id", "role", "civility", "last_name", "first_name", "address", "postal_code",
             "city", "phone_home", "phone_mobile", "phone_work", "email", "profession", "employer", "version"),
            guardians(),
        )
        # Children: the first families have two, the others one, 15,000 at scale 1.
        children: list[tuple[int, int]] = []  # (child id, family id)
        twins = size["children"] - size["families"]
        cid = c0
        for n, family_id in enumerate(families):
            for _ in range(2 if n < twins else 1):
                children.append((cid, family_id))
                cid += 1
        counts["child"] = _bulk(
            connection,
            t.child,
            ("id", "first_name", "last_name", "birth_date", "sex", "school", "class_level", "external_id", "version"),
            ((c, f"Enfant{c}", f"NOM{f}", date(2016, 1, 1) + timedelta(days=c % 1500), "F" if c % 2 else "M",
              "École de la Ville", "CE1", f"CITY-C{c}", 1) for c, f in children),
        )
        counts["family_child"] = _bulk(connection, t.family_child, ("family_id", "child_id"), ((f, c) for c, f in children))
        morning = [(c, f) for c, f in children if c % 3 == 0]
        counts["enrollment"] = _bulk(
            connection,
            t.enrollment,
            ("child_id", "activity_id", "family_id", "start_date", "end_date", "site"),
            [(c, cantine.id, f, start, end, "École de la Ville") for c, f in children]
            + [(c, matin.id, f, start, end, "École de la Ville") for c, f in morning],
        )

        def reservations() -> Iterator[tuple[Any, ...]]:
            for activity, days, who in ((cantine, canteen_days, children), (matin, morning_days, morning)):
                for c, f in who:
                    for day in days:
                        yield (c, activity.id, f, day, "accepted", now, 1)

        counts["reservation"] = _bulk(
            connection,
            t.reservation,
            ("child_id", "activity_id", "family_id", "day", "state", "created_at", "version"),
            reservations(),
        )
        th0 = _next_id(connection, t.thread)
        threads = [(th0 + n, families[n % len(families)]) for n in range(size["threads"])]
        counts["thread"] = _bulk(
            connection,
            t.thread,
            ("id", "family_id", "service", "subject", "created_at", "updated_at", "handled"),
            ((th, f, "ENFANCE", f"Question {th}", now - timedelta(days=th % 300), now - timedelta(days=th % 300), True)
             for th, f in threads),
        )

        def messages() -> Iterator[tuple[Any, ...]]:
            for th, f in threads:
                sent = now - timedelta(days=th % 300)
                yield (th, f, "from_family", f"Famille {f}", f"Question {th}", "Bonjour, une question.", 22, sent, sent, False)
                reply = sent + timedelta(hours=3)
                yield (th, f, "from_collectivity", "Service Enfance", f"Re: Question {th}", "Bonjour, voici la réponse.", 26, reply, None, False)

        counts["message"] = _bulk(
            connection,
            t.message,
            ("thread_id", "family_id", "direction", "author_label", "subject", "body", "size", "created_at", "read_at", "is_system"),
            messages(),
        )
        i0 = _next_id(connection, t.invoice)
        invoices = range(i0, i0 + size["invoices"])

        def invoice_rows() -> Iterator[tuple[Any, ...]]:
            for n, iid in enumerate(invoices):
                family_id = families[n % len(families)]
                issued = today - timedelta(days=30 * (n // len(families)) + 5)
                paid = issued < today - timedelta(days=40)
                yield (iid, family_id, f"C{iid:09d}", f"CITY-{iid}", "default", issued, issued + timedelta(days=30),
                       6225, 6225 if paid else 0, "paid" if paid else "open", "Cantine", f"CITY-I{iid}", 1)

        counts["invoice"] = _bulk(
            connection,
            t.invoice,
            ("id", "family_id", "number", "reference", "regie_code", "issue_date", "due_date", "total",
             "paid_amount", "status", "label", "external_id", "version"),
            invoice_rows(),
        )
        counts["invoice_line"] = _bulk(
            connection,
            t.invoice_line,
            ("invoice_id", "label", "quantity", "unit_price", "amount"),
            ((iid, "Cantine", 1500, 415, 6225) for iid in invoices),
        )
        _sync_sequences(connection, (t.family, t.guardian, t.child, t.thread, t.invoice))
        # rows written on a bare connection: every page a worker may keep is out of date
        # (famille_core/persistence/page_versions.py)
        page_versions.bump_all(connection)
    # Statistics for the planner, and on PostgreSQL the visibility map a running database's
    # autovacuum keeps: without it a count by index (a day's capacity) reads every row's page
    # (37 ms instead of 2 ms for a day of the city's canteen).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"city at scale {scale} built in {elapsed:.0f} s:")
    for name, count in counts.items():
        print(f"  {name:<14} {count:>10,}")
    print(f"benches: --database {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="", help="a PostgreSQL URL (emptied first); default SQLite")
    parser.add_argument("--sqlite", default="", help="the SQLite file to create (default: in a temporary folder)")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10,000 families (the issue's city)")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="famille-city-"))
    url = args.database
    if not url:
        path = Path(args.sqlite) if args.sqlite else instance / "city.sqlite"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path.resolve()}"
    build(url, args.scale, instance)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
