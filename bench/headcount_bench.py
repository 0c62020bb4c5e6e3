"""The agent's day headcount (Effectifs) at city scale, next to hand-written SQL for the same numbers.

What it does: on a database built by ``bench/city.py``, times the calendar plugin's
``headcount`` service (the one behind the agents' Effectifs page and its CSV) for a school day,
and one hand-written SQL statement that computes the same numbers (booked, requested and absent
children per activity and school), checks both give the same rows, and prints the medians side
by side with their ratio.

Reproduce::

    .venv/bin/python bench/city.py --database postgresql://postgres@127.0.0.1:5432/city
    .venv/bin/python bench/headcount_bench.py --database postgresql://postgres@127.0.0.1:5432/city

Prints figures; never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from famille_core import settings_from_mapping
from famille_core.clock import today_in_paris
from famille_core.entities import Actor, Role, User
from famille_core.persistence import build_sql_portal

HAND_WRITTEN = """
SELECT a.label, COALESCE(NULLIF(c.school, ''), 'École non renseignée') AS school,
       COUNT(*) FILTER (WHERE r.state = 'accepted') AS booked,
       COUNT(*) FILTER (WHERE r.state = 'requested') AS requested,
       COUNT(ab.id) FILTER (WHERE r.state = 'accepted') AS absent
FROM reservation r
JOIN child c ON c.id = r.child_id
JOIN activity a ON a.id = r.activity_id
LEFT JOIN absence ab ON ab.child_id = r.child_id AND ab.activity_id = r.activity_id AND ab.day = r.day
WHERE r.day = :day AND r.state IN ('accepted', 'requested')
GROUP BY a.label, 2
ORDER BY a.label, 2
"""
"""The same numbers in one statement (SQLite has no ``FILTER``: it uses ``SUM(CASE …)``)."""


def _sqlite(statement: str) -> str:
    for name in ("accepted", "requested"):
        statement = statement.replace(
            f"COUNT(*) FILTER (WHERE r.state = '{name}')", f"SUM(CASE WHEN r.state = '{name}' THEN 1 ELSE 0 END)"
        )
    return statement.replace(
        "COUNT(ab.id) FILTER (WHERE r.state = 'accepted')",
        "SUM(CASE WHEN r.state = 'accepted' AND ab.id IS NOT NULL THEN 1 ELSE 0 END)",
    )


def _median_ms(call: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    result = call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a database built by bench/city.py")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--day", default="", help="ISO date (default: the next Monday)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from server_bench import CONFIG

    portal = build_sql_portal(settings_from_mapping(tomllib.loads(CONFIG)), args.database)
    today = today_in_paris(portal.clock)
    day = date.fromisoformat(args.day) if args.day else today + timedelta(days=7 - today.weekday())
    from famille_plugins.calendar.services.agents import headcount

    with portal.unit_of_work() as uow:
        agent = uow.first(User, role=Role.ADMIN)
        assert agent is not None, "no administrator: build the database with bench/city.py"
        actor = Actor.for_user(agent)

    def service() -> list[tuple[str, str, int, int, int]]:
        with portal.unit_of_work() as uow:
            return [(r.activity, r.school, r.booked, r.requested, r.absent) for r in headcount(uow, actor, day)]

    engine = portal.storage
    statement = HAND_WRITTEN if engine.dialect.name == "postgresql" else _sqlite(HAND_WRITTEN)

    def sql() -> list[tuple[str, str, int, int, int]]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(statement), {"day": day})]  # type: ignore[misc]

    service_ms, by_service = _median_ms(service, args.rounds)
    sql_ms, by_sql = _median_ms(sql, args.rounds)
    children = sum(row[2] + row[3] for row in by_sql)
    print(f"{engine.dialect.name}, headcount of {day} ({children:,} bookings), median of {args.rounds}:")
    print(f"  service headcount(): {service_ms:8.1f} ms")
    print(f"  hand-written SQL:    {sql_ms:8.1f} ms")
    print(f"  ratio: {service_ms / sql_ms:.2f} (target ≤ 1.5)")
    print(f"  same rows: {sorted(by_service) == sorted(by_sql)}")
    if sorted(by_service) != sorted(by_sql):
        print("  service:", by_service[:5], "\n  SQL:    ", by_sql[:5])


if __name__ == "__main__":
    main()
