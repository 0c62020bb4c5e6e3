"""Pages on a real server under load, each as a ratio to a bare Flask app served the same way.

What it does: builds a fresh instance (SQLite file, or the PostgreSQL database given), fills it
with the demo data, serves the portal and a one-route Flask app with gunicorn (same worker count,
same settings), logs the demo parent in, then loads each page with wrk in alternating rounds
(bare app, portal pages, the booking POST, bare app…) and prints the median requests per second
of each and its ratio to the bare app's median, then the workers' resident memory. The pages' runs send the
session cookie as a browser does (``PAGE_SCRIPT``): wrk alone would send the login's cookie at
every request, and once it is a minute old every request would make the portal rewrite and
re-sign the session (a browser gets the new cookie and sends it: once a minute).

The booking POST is the Agenda's "Réserver" form as a browser posts it (session cookie, CSRF
token): wrk's Lua script (``BOOKING_SCRIPT``) books a different open (child, activity, day) of the
demo household at each request, so each one is a real booking (lock, capacity, insert, event,
commit), never an "already booked" refusal; the bookings a run made are deleted before the next,
and the bench checks that each request made one (a short run: a household has a few hundred
bookable days, so the POST's runs last ``--post-seconds``, 1 s by default: PostgreSQL books the demo household's 420 open days in about 2 s).

Reproduce (on an otherwise idle machine; figures from a busy one are noise)::

    make install                      # gunicorn comes with the project
    apt-get install wrk               # Debian's wrk, the load generator
    .venv/bin/python bench/server_bench.py                       # SQLite
    .venv/bin/python bench/server_bench.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/server_bench.py --workers 1           # for the 2-worker / 1-worker ratio
    .venv/bin/python bench/server_bench.py --existing postgresql://postgres@127.0.0.1:5432/city  # a city

Where the time goes: ``bench/page_profile.py`` (CPU ms and SQL statements per request in
process, ``--profile PATH`` for a profile of one page).

Options: ``--workers`` (2), ``--threads``/``--connections`` of wrk (2/8), ``--seconds`` per run (8),
``--rounds`` (3), ``--post-seconds`` (1), ``--port`` (the bare app's, the portal's is the next; free ones by default). A
PostgreSQL database given here is emptied first. Prints figures; never fails on a time.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

PAGES = [
    ("bare route inside the portal, logged in", "/bench-bare"),
    ("Accueil /", "/"),
    ("Agenda /agenda/", "/agenda/"),
    ("Factures /factures/", "/factures/"),
    ("Boîte de réception /messages/", "/messages/"),
    ("Mon compte /compte/", "/compte/"),
]

POST_LABEL = "booking POST /agenda/reserver"

CONFIG = """\
[collectivity]
name = "Commune d'Harmonie"
school_zone = "A"
services = ["ENFANCE", "SCOLAIRE"]

[[regies]]
code = "default"
name = "Régie enfance"
numcli = "021289"

[portal]
secret_key = "bench-only-secret-key-not-for-production"
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(instance: Path, url: str, existing: bool = False) -> dict[str, str]:
    """A migrated database with the demo data (``existing``: the database as it is, e.g. a
    city from ``bench/city.py``); the environment that serves it."""
    (instance / "famille.toml").write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        "FAMILLE_INSTANCE": str(instance),
        "FAMILLE_CONFIG": str(instance / "famille.toml"),
        "FAMILLE_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "bench"), os.environ.get("PYTHONPATH")])
        ),
    }
    if existing:
        return env
    if url.startswith("postgresql"):
        from server_apps import empty_postgresql

        empty_postgresql(url)
    for command in (["init"], ["demo"]):
        subprocess.run([str(BIN / "famille"), *command], env=env, check=True, capture_output=True)
    return env


def _serve(
    app: str, workers: int, env: dict[str, str], port: int = 0
) -> tuple[subprocess.Popen[bytes], str]:
    port = port or _free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/connexion" if "portal" in app else base, timeout=2)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app} did not start")


def _login(base: str) -> str:
    """The demo parent's session cookie, through the real login form."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/connexion").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    body = urllib.parse.urlencode(
        {"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token[1]}
    ).encode()
    opener.open(base + "/connexion", data=body)
    cookies = {c.name: c.value for c in jar}
    assert "famille_session" in cookies, "the demo parent could not log in"
    cookie = f"famille_session={cookies['famille_session']}"
    for _label, path in PAGES:
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200 and response.url.endswith(path), f"{path} is not served"
    return cookie


PAGE_SCRIPT = """\
-- A browser's cookie jar, per wrk thread: the session cookie the portal sends back (it rewrites
-- the session's last-activity time at most once a minute) is the one sent from then on.
wrk.headers["Cookie"] = "%(cookie)s"
request = function()
  return wrk.format()
end
response = function(status, headers, body)
  local set = headers["Set-Cookie"]
  local value = set and set:match("famille_session=([^;]*)")
  if value then
    wrk.headers["Cookie"] = "famille_session=" .. value
  end
end
"""


def _wrk(url: str, seconds: int, threads: int, connections: int, cookie: str = "") -> float:
    """Requests per second of ``url``; with ``cookie``, sent as a browser would (``PAGE_SCRIPT``)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    script = None
    if cookie:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(PAGE_SCRIPT % {"cookie": cookie})
        command[1:1] = ["-s", script.name]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    if "Non-2xx" in output:
        raise SystemExit(f"{url}: answers other than 2xx under load:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    return float(match[1])


BOOKING_SCRIPT = """\
-- Each wrk thread books its own share of the slots, one after the other (docs in server_bench.py).
local slots = {%(slots)s}
local threads = %(threads)d
local next_thread = 0
local step = 0
function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "%(cookie)s"
request = function()
  local i = id + step * threads
  step = step + 1
  if i >= #slots then
    return wrk.format("GET", "/bench-bare")  -- slots used up: the bench reports it
  end
  return wrk.format(nil, "/agenda/reserver", nil, "csrf_token=%(token)s&" .. slots[i + 1])
end
"""


class Booking:
    """The booking POST's runs: the demo household's bookable slots, read from its Agenda pages,
    and the reservations each run made, deleted before the next."""

    def __init__(self, base: str, cookie: str, url: str) -> None:
        from sqlalchemy import text

        from famille_core.persistence import make_engine

        self.engine = make_engine(url)
        self.text = text
        with self.engine.connect() as connection:
            self.first_id = connection.execute(
                text("SELECT coalesce(max(id), 0) FROM reservation")
            ).scalar_one()
            rows = connection.execute(text("SELECT label, id FROM activity")).all()
            labels: dict[str, int] = {str(label): int(key) for label, key in rows}
        agenda = _get(base + "/agenda/", cookie)
        token = re.search(r'name="csrf_token" value="([^"]+)"', agenda)
        assert token, "no CSRF token on the Agenda"
        self.token = urllib.parse.quote(token[1], safe="")
        children = re.findall(
            r'<option value="(\d+)"', agenda.split('id="enfant"', 1)[1].split("</select>")[0]
        )
        today = time.localtime()
        months = [
            (today.tm_year + (today.tm_mon + k - 1) // 12, (today.tm_mon + k - 1) % 12 + 1)
            for k in range(1, 9)
        ]
        slots = []
        for child in children:
            for year, month in months:
                page = _get(f"{base}/agenda/?enfant={child}&mois={year}-{month:02d}", cookie)
                for day, label in re.findall(r'data-day="([\d-]+)" aria-label="([^"]*)"', page):
                    for activity in re.findall(r"([^,]+) : réservable", html.unescape(label)):
                        slots.append(
                            f"child_id={child}&activity_id={labels[activity.strip()]}&day={day}"
                        )
        assert slots, "no bookable day in the demo household's Agenda"
        self.slots = list(dict.fromkeys(slots))  # a month's grid shows its neighbours' edges
        self.cookie = cookie

    def run(self, base: str, seconds: int, threads: int, connections: int) -> float:
        """One run's requests per second, after deleting the bookings of the previous run."""
        with self.engine.begin() as connection:
            connection.execute(
                self.text("DELETE FROM reservation WHERE id > :first"), {"first": self.first_id}
            )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                BOOKING_SCRIPT
                % {
                    "slots": ", ".join(f'"{slot}"' for slot in self.slots),
                    "threads": threads,
                    "cookie": self.cookie,
                    "token": self.token,
                }
            )
        try:
            command = [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                script.name,
                base + "/",
            ]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        finally:
            os.unlink(script.name)
        if "Non-2xx" in output:
            raise SystemExit(f"booking POST: answers other than 2xx or 3xx under load:\n{output}")
        requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
        with self.engine.connect() as connection:
            booked = connection.execute(
                self.text("SELECT count(*) FROM reservation WHERE id > :first"),
                {"first": self.first_id},
            ).scalar_one()
        if requests > len(self.slots) or booked < requests - connections:
            raise SystemExit(
                f"booking POST: {requests} requests made {booked} bookings ({len(self.slots)} "
                "slots): lower --post-seconds"
            )
        match = re.search(r"Requests/sec:\s+([\d.]+)", output)
        assert match, output
        return float(match[1])


def _get(url: str, cookie: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request) as response:
        return str(response.read().decode())


def _rss_mb(master: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master), in MB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master.pid}$", text, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if rss:
                sizes.append(int(rss[1]) / 1024)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--post-seconds", type=int, default=1, help="length of a booking POST run")
    parser.add_argument(
        "--existing",
        default="",
        help="serve this database as it is (a city built by bench/city.py)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="the bare app's port, the portal's the next (default: free ones)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (Debian), then run again.")
        return
    instance = Path(tempfile.mkdtemp(prefix="famille-bench-"))
    url = args.existing or args.database or f"sqlite:///{instance / 'famille.sqlite'}"
    env = _prepare(instance, url, existing=bool(args.existing))
    bare, bare_base = _serve("server_apps:bare_app()", args.workers, env, args.port)
    portal, portal_base = _serve(
        "server_apps:portal_app()", args.workers, env, args.port + 1 if args.port else 0
    )
    try:
        cookie = _login(portal_base)
        booking = Booking(portal_base, cookie, url)
        rates: dict[str, list[float]] = {"bare Flask app": []}
        rates.update({label: [] for label, _path in PAGES})
        rates[POST_LABEL] = []
        for _round in range(args.rounds):
            for label, path in [("bare Flask app", ""), *PAGES]:
                if path:
                    target, with_cookie = portal_base + path, cookie
                else:
                    target, with_cookie = bare_base + "/", ""
                rates[label].append(
                    _wrk(target, args.seconds, args.threads, args.connections, with_cookie)
                )
            rates[POST_LABEL].append(
                booking.run(portal_base, args.post_seconds, args.threads, args.connections)
            )
        bare_median = statistics.median(rates["bare Flask app"])
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        data = "existing database (city)" if args.existing else "demo data"
        print(
            f"\n{kind}, {data}, gunicorn {args.workers} sync worker(s), wrk -t{args.threads} "
            f"-c{args.connections}, {args.rounds} rounds of {args.seconds} s, medians, "
            f"load average {os.getloadavg()[0]:.1f} at the end"
        )
        print("| page | req/s | ÷ bare Flask | rounds |\n|---|---|---|---|")
        for label, values in rates.items():
            median = statistics.median(values)
            spread = ", ".join(f"{v:.0f}" for v in values)
            print(f"| {label} | {median:,.0f} | {median / bare_median:.3f} | {spread} |")
        sizes = _rss_mb(portal)
        print(f"portal workers' RSS after the run: {', '.join(f'{s:.0f} MB' for s in sizes)}")
    finally:
        for process in (bare, portal):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
