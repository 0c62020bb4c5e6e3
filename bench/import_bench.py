"""Import throughput: 10,000 households from a CSV file through ``famille import``.

Reproduce: ``make install && .venv/bin/python bench/import_bench.py [N]`` (SQLite in a temporary
folder; ``--database postgresql://…`` or FAMILLE_DATABASE_URL to measure PostgreSQL: that
database is emptied first). Prints rows per second for the first import (creates), a dry run and
a second identical import (all unchanged): by the wall clock, and by the CPU time of the
``famille`` process (its start included), which moves less when other work shares the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=10_000)
    parser.add_argument("--database", default=os.environ.get("FAMILLE_DATABASE_URL", ""))
    args = parser.parse_args()
    count = args.count
    folder = Path(tempfile.mkdtemp())
    csv_path = folder / "families.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write(
            "external_id,family_number,name,responsable.last_name,responsable.first_name,responsable.email\n"
        )
        for i in range(count):
            out.write(f"ERP-{i},{100000 + i},FAMILLE{i},NOM{i},Prénom{i},p{i}@example.org\n")
    env = {**os.environ, "FAMILLE_INSTANCE": str(folder / "instance")}
    env.pop("FAMILLE_DATABASE_URL", None)
    if args.database:
        env["FAMILLE_DATABASE_URL"] = args.database
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from server_apps import empty_postgresql

        empty_postgresql(args.database)
    famille = [sys.executable, "-c", "from host_flask.cli import main; main()"]
    subprocess.run([*famille, "init"], env=env, check=True, capture_output=True)
    print(f"database: {'PostgreSQL' if args.database else 'SQLite'}, {os.getloadavg()[0]:.1f} load average")
    for label, extra in (
        ("first import (creates)", []),
        ("dry run (all unchanged)", ["--dry-run"]),
        ("second import (unchanged)", []),
    ):
        cpu, start = _children_cpu(), time.perf_counter()
        result = subprocess.run(
            [*famille, "import", "families", str(csv_path), *extra],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed, used = time.perf_counter() - start, _children_cpu() - cpu
        print(
            f"{label}: {count} rows in {elapsed:.1f} s = {count / elapsed:,.0f} rows/s "
            f"(CPU {used:.1f} s = {count / used:,.0f} rows per CPU second)"
        )
        print(f"  {result.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
