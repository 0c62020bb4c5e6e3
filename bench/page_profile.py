"""In-process cost of each page: milliseconds and SQL queries per request, and a profile.

What it does: builds the demo in a fresh SQLite file (or uses the database given, e.g. a city
built by ``bench/city.py``), logs the demo parent in with Flask's test client, then requests each
page of ``bench/server_bench.py`` many times and prints, per page, the milliseconds per request,
the SQL statements per request and the ratio to a bare Flask route served by a bare Flask app in
the same process. One thread, no server: the figures compare code paths and move little with the
machine's load, unlike requests per second.

Reproduce::

    .venv/bin/python bench/page_profile.py                        # demo, SQLite, 300 requests a page
    .venv/bin/python bench/page_profile.py --database postgresql://postgres@127.0.0.1:5432/city
    .venv/bin/python bench/page_profile.py --profile /agenda/      # cProfile of one page
    .venv/bin/python bench/page_profile.py --profile / --sampler   # pyinstrument's (pip install pyinstrument)
    .venv/bin/python bench/page_profile.py --queries /agenda/      # the SQL of one request
    .venv/bin/python bench/page_profile.py --miss                  # every view a fast-page miss

The same page requested again is answered from the fast pages' cache (docs/deployment.md, "Fast
pages"): the default figures are its hit path. ``--miss`` empties the cache before each request,
as the first view after a change finds it: the page rendered, then kept.

A database given with ``--database`` is used as it is (build it with ``bench/city.py``, which
also holds the demo); without it the demo is built in a temporary folder. Prints figures; never
fails on a time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_bench import CONFIG, PAGES

BOOKING = ("booking POST /agenda/reserver (+ cancel)", "POST")
UNTIMED = [0.0]
"""CPU seconds spent by the booking bench between its POSTs (looking up the reservation to
cancel, reading the flash messages as the page after the redirect would): left out of the figures."""


class QueryCounter:
    """Counts (and optionally keeps) the SQL statements an engine runs, plus the session checks,
    which run on a driver cursor of their own (famille_core/persistence/account_check.py)."""

    def __init__(self, engine: object, reader: object = None) -> None:
        self.statements_seen = 0
        self.keep = False
        self.paused = False
        self.statements: list[str] = []
        self.reader = reader
        event.listen(engine, "before_cursor_execute", self._seen)

    @property
    def reads(self) -> int:
        """The session checks made, when the host has a reader."""
        return int(getattr(self.reader, "reads", 0))

    @property
    def count(self) -> int:
        return self.statements_seen + self.reads

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if self.paused:
            return
        self.statements_seen += 1
        if self.keep:
            self.statements.append(" ".join(statement.split()))


def _portal_app(url: str, instance: Path) -> tuple[Flask, QueryCounter]:
    os.environ["FAMILLE_INSTANCE"] = str(instance)
    os.environ["FAMILLE_CONFIG"] = str(instance / "famille.toml")
    os.environ["FAMILLE_DATABASE_URL"] = url
    (instance / "famille.toml").write_text(CONFIG, encoding="utf-8")
    from server_apps import portal_app

    app = portal_app()
    portal = app.extensions["famille"]
    return app, QueryCounter(portal.storage, app.extensions.get("famille_account_reader"))


def _build_demo(url: str, instance: Path) -> None:
    from famille_core import settings_from_mapping
    from famille_core.demo import populate
    from famille_core.persistence import build_sql_portal, upgrade_database

    upgrade_database(url)
    import tomllib

    settings = settings_from_mapping(tomllib.loads(CONFIG))
    portal = build_sql_portal(settings, url, instance_path=instance)
    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
    portal.storage.dispose()


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token"
    return match[1]


def _login(app: Flask) -> object:
    client = app.test_client()
    token = _token(client.get("/connexion").get_data(as_text=True))
    client.post(
        "/connexion",
        data={"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token},
    )
    assert client.get("/bench-bare").status_code == 200, "the demo parent could not log in"
    return client


def _booking_call(app: Flask, client: object, counter: QueryCounter) -> Callable[[], object]:
    """One booking and its cancellation on an open canteen day, as the Agenda's forms post them
    (the reservation's id is looked up between the two, not counted)."""
    from famille_core.entities import Activity, Child, Reservation

    portal = app.extensions["famille"]
    with portal.unit_of_work() as uow:
        emma = uow.first(Child, first_name="Emma", last_name="DUPONT")
        cantine = uow.first(Activity, code="CANTINE")
        assert emma is not None and cantine is not None
        ids = {"child_id": str(emma.id), "activity_id": str(cantine.id)}
    page = client.get("/agenda/?mois=" + _open_month(app)).get_data(as_text=True)  # type: ignore[attr-defined]
    token = _token(page)
    days = re.findall(r'data-day="(\d{4}-\d\d-\d\d)" aria-label="[^"]*Cantine : réservable', page)
    assert days, "no bookable canteen day next month"
    state = {"i": 0}

    def aside(work: Callable[[], object]) -> object:
        """Run ``work`` outside the figures: neither its statements nor its CPU time count."""
        counter.paused = True
        start = time.process_time()
        try:
            return work()
        finally:
            UNTIMED[0] += time.process_time() - start
            counter.paused = False

    def read_flashes() -> None:
        # A browser follows the redirect and the Agenda shows (and drops) the flash message;
        # without this the messages would pile up in the session cookie, POST after POST.
        with client.session_transaction() as session:  # type: ignore[attr-defined]
            session.pop("_flashes", None)

    def call() -> object:
        for _attempt in range(len(days)):
            day = days[state["i"] % len(days)]
            state["i"] += 1
            data = {"csrf_token": token, "day": day, **ids}
            booked = client.post("/agenda/reserver", data=data)  # type: ignore[attr-defined]

            def lookup(day: str = day) -> Reservation | None:
                read_flashes()
                with portal.unit_of_work() as uow:
                    return uow.first(Reservation, child_id=emma.id, activity_id=cantine.id, day=date.fromisoformat(day), state="accepted")

            found = aside(lookup)
            if booked.status_code == 302 and found is not None:
                client.post(  # type: ignore[attr-defined]
                    "/agenda/annuler",
                    data={"csrf_token": token, "child_id": ids["child_id"], "reservation_id": str(found.id)},
                )
                aside(read_flashes)
                return booked
        raise SystemExit("no day of the month could be booked")

    return call


def _open_month(app: Flask) -> str:
    """Next month (its days are past no deadline)."""
    from famille_core.clock import today_in_paris

    today = today_in_paris(app.extensions["famille"].clock)
    return f"{(today.replace(day=1) + timedelta(days=32)):%Y-%m}"


def _measure(call: Callable[[], object], count: int, counter: QueryCounter | None) -> tuple[float, float]:
    call()  # warm
    start_queries = counter.count if counter else 0
    untimed = UNTIMED[0]
    start = time.process_time()  # CPU time of this process: steadier than wall time on a busy machine
    for _ in range(count):
        call()
    elapsed = time.process_time() - start - (UNTIMED[0] - untimed)
    queries = ((counter.count - start_queries) / count) if counter else 0.0
    return 1000 * elapsed / count, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="", help="an existing database URL (default: the demo in SQLite)")
    parser.add_argument("--count", type=int, default=300, help="requests per page")
    parser.add_argument("--profile", default="", help="a path: print its cProfile (top 40, cumulative)")
    parser.add_argument("--sampler", action="store_true", help="with --profile: pyinstrument (sampling) instead of cProfile")
    parser.add_argument("--miss", action="store_true", help="empty the page cache before each request (the first view after a change)")
    parser.add_argument("--queries", default="", help="a path: print the SQL statements of one request (POST: a booking and its cancellation)")
    parser.add_argument("--only", action="append", default=[], help="measure only this path (repeatable; POST: the booking)")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="famille-profile-"))
    url = args.database
    if not url:
        url = f"sqlite:///{instance / 'famille.sqlite'}"
        _build_demo(url, instance)
    from server_apps import bare_app

    app, counter = _portal_app(url, instance)
    client = _login(app)
    bare = bare_app().test_client()

    from host_flask.page_cache import cache_of

    cache = cache_of(app)

    def get(path: str) -> Callable[[], object]:
        if args.miss and cache is not None:
            return lambda: (cache.clear(), client.get(path))  # type: ignore[attr-defined]
        return lambda: client.get(path)  # type: ignore[attr-defined]

    if args.queries:
        call = _booking_call(app, client, counter) if args.queries == "POST" else get(args.queries)
        call()
        counter.keep = True
        reads = counter.reads
        call()
        counter.keep = False
        checks = counter.reads - reads
        what = "the booking POST and its cancellation" if args.queries == "POST" else f"GET {args.queries}"
        print(f"{len(counter.statements) + checks} statements for {what}:")
        if checks:
            print(f"  ({checks} session check(s): the account's row, on a connection of their own)")
        for statement in counter.statements:
            print(" ", statement[:300])
        return
    if args.profile:
        call = _booking_call(app, client, counter) if args.profile == "POST" else get(args.profile)
        call()
        if args.sampler:
            from pyinstrument import Profiler

            sampler = Profiler(interval=0.0005)
            sampler.start()
            for _ in range(args.count):
                call()
            sampler.stop()
            print(sampler.output_text(unicode=False, color=False, show_all=False))
            return
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.count):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative"))
        if os.environ.get("CALLERS"):  # e.g. CALLERS=hostname: who calls it, and how often
            stats.print_callers(os.environ["CALLERS"])
            return
        stats.print_stats(*([os.environ["ONLY"]] if os.environ.get("ONLY") else []), int(os.environ.get("TOP", "40")))
        return

    bare_ms, _ = _measure(lambda: bare.get("/"), args.count, None)
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    path_kind = "every view a miss (--miss)" if args.miss else "repeated views: the cache's hits" if cache is not None else "page cache off"
    print(f"\n{kind}, in process (Flask test client), {args.count} requests a page, CPU ms; {path_kind}")
    print("| page | ms/request | SQL/request | bare Flask ms ÷ page ms |\n|---|---|---|---|")
    print(f"| bare Flask app | {bare_ms:.2f} | 0 | 1 |")
    for label, path in [*PAGES, BOOKING]:
        if args.only and path not in args.only:
            continue
        call = _booking_call(app, client, counter) if path == "POST" else get(path)
        ms, queries = _measure(call, args.count, counter)
        if path == "POST":
            ms, queries = ms / 2, queries / 2  # a booking and its cancellation
        print(f"| {label} | {ms:.2f} | {queries:.1f} | {bare_ms / ms:.3f} |")


if __name__ == "__main__":
    main()
