"""Agenda throughput: the parent's month page (GET) and the booking form (POST), next to a bare
Flask route served by the same application, as a ratio.

Reproduce: ``make install && .venv/bin/python bench/calendar_bench.py [N]`` (SQLite in a temporary
folder; set FAMILLE_DATABASE_URL to measure PostgreSQL). In-process WSGI client, one thread: the
figures compare code paths, not a production server. Prints figures; never fails.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from famille_core import FixedClock, settings_from_mapping
from famille_core.clock import PARIS
from famille_core.demo import populate
from famille_core.entities import Activity, Child
from famille_core.persistence import build_sql_portal, upgrade_database
from host_flask import create_app
from host_flask.access import public


def _rate(label: str, count: int, call: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(count):
        call(i)
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    print(f"{label:<38} {count:>5} in {elapsed:6.2f} s  {rate:8.1f} /s  {1000 * elapsed / count:7.2f} ms each")
    return rate


def main(count: int = 200) -> None:
    folder = Path(tempfile.mkdtemp())
    url = os.environ.get("FAMILLE_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade_database(url)
    settings = settings_from_mapping(
        {"collectivity": {"school_zone": "A"}, "portal": {"secret_key": "bench-only-secret"}}
    )
    clock = FixedClock(datetime(2026, 9, 7, 9, 0, tzinfo=PARIS))
    portal = build_sql_portal(settings, url, clock=clock, instance_path=folder)
    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
        emma = uow.first(Child, first_name="Emma")
        cantine = uow.first(Activity, code="CANTINE")
        assert emma is not None and cantine is not None
        emma_id, cantine_id = emma.id, cantine.id

    app = create_app({"TESTING": True}, portal=portal)

    @app.route("/bench-bare")
    @public
    def bare() -> str:
        return "ok"

    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/connexion", data={"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token})
    agenda = f"/agenda/?enfant={emma_id}&mois=2026-11"
    page = client.get(agenda).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    # Open canteen days from 14 September onwards, one per POST.
    days = []
    day = date(2026, 9, 14)
    while len(days) < count:
        if day.weekday() in (0, 1, 3, 4):
            days.append(day)
        day += timedelta(days=1)

    print(f"database: {url.split(':', 1)[0]}")
    bare_rate = _rate("bare Flask route (GET)", count, lambda _i: client.get("/bench-bare"))
    page_rate = _rate("Agenda month page (GET)", count, lambda _i: client.get(agenda))
    booked = 0

    def post(i: int) -> None:
        nonlocal booked
        response = client.post(
            "/agenda/reserver",
            data={"csrf_token": token, "child_id": emma_id, "activity_id": cantine_id, "day": days[i].isoformat()},
        )
        booked += response.status_code == 302

    post_rate = _rate("Booking form (POST + redirect)", count, post)
    print(f"booked {booked} of {count} (holidays are refused, as they should be)")
    print(f"ratio page / bare: {page_rate / bare_rate:.3f}   booking / bare: {post_rate / bare_rate:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
