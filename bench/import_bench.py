"""Import throughput: 10,000 households from a CSV file through ``famille import``.

Reproduce: ``make install && .venv/bin/python bench/import_bench.py [N]`` (SQLite in a temporary
folder; set FAMILLE_DATABASE_URL to measure PostgreSQL). Prints rows per second for the first
import (creates) and a second identical one (all unchanged).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(count: int = 10_000) -> None:
    folder = Path(tempfile.mkdtemp())
    csv_path = folder / "families.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write(
            "external_id,family_number,name,responsable.last_name,responsable.first_name,responsable.email\n"
        )
        for i in range(count):
            out.write(f"ERP-{i},{100000 + i},FAMILLE{i},NOM{i},Prénom{i},p{i}@example.org\n")
    env = {**os.environ, "FAMILLE_INSTANCE": str(folder / "instance")}
    famille = [sys.executable, "-c", "from host_flask.cli import main; main()"]
    subprocess.run([*famille, "init"], env=env, check=True, capture_output=True)
    for label in ("first import (creates)", "second import (unchanged)"):
        start = time.perf_counter()
        result = subprocess.run(
            [*famille, "import", "families", str(csv_path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        print(f"{label}: {count} rows in {elapsed:.1f} s = {count / elapsed:,.0f} rows/s")
        print(f"  {result.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
