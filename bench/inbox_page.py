"""Inbox cost: the parent's "Boîte de réception" page with 10, 1,000 and 10,000 messages in the
household — time per page and SQL statements per page (they must not grow with the messages).

Reproduce: ``make install && .venv/bin/python bench/inbox_page.py [N]`` (SQLite in a temporary
folder; set FAMILLE_DATABASE_URL to measure PostgreSQL). In-process WSGI client, one thread: the
figures compare sizes, not a production server. Prints figures; never fails.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from famille_core import FixedClock, Portal, settings_from_mapping
from famille_core.clock import PARIS
from famille_core.demo import populate
from famille_core.entities import Direction, Family, Message, Thread
from famille_core.persistence import build_sql_portal, upgrade_database
from host_flask import create_app


def add_messages(portal: Portal, family_id: int, count: int, start: datetime) -> None:
    """``count`` messages from the ENFANCE service, one conversation each, half of them unread."""
    with portal.unit_of_work() as uow:
        for number in range(count):
            at = start + timedelta(minutes=number)
            thread = Thread(family_id=family_id, service="ENFANCE", subject=f"Avis {number}", created_at=at, updated_at=at)
            uow.add(thread)
            uow.flush()
            assert thread.id is not None
            uow.add(
                Message(
                    thread_id=thread.id,
                    family_id=family_id,
                    direction=Direction.FROM_COLLECTIVITY,
                    author_label="Magnus ENFANCE",
                    subject=f"Avis {number}",
                    body="Cantine - inscription prise en compte",
                    size=37,
                    created_at=at,
                    read_at=at if number % 2 else None,
                )
            )
        uow.commit()


def main(rounds: int = 50) -> None:
    folder = Path(tempfile.mkdtemp())
    url = os.environ.get("FAMILLE_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade_database(url)
    settings = settings_from_mapping({"portal": {"secret_key": "bench-only-secret"}})
    clock = FixedClock(datetime(2026, 11, 16, 9, 0, tzinfo=PARIS))
    portal = build_sql_portal(settings, url, clock=clock, instance_path=folder)
    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None and dupont.id is not None
        family_id = dupont.id

    app = create_app({"TESTING": True}, portal=portal)
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/connexion", data={"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token})

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = portal.storage
    print(f"database: {url.split(':', 1)[0]}   rounds per size: {rounds}")
    print(f"{'messages':>9} {'ms / page':>10} {'SQL / page':>11}")
    total = 0
    for size in (10, 1_000, 10_000):
        add_messages(portal, family_id, size - total, datetime(2026, 1, 1, tzinfo=PARIS) + timedelta(days=total))
        total = size
        client.get("/messages/")  # warm up
        event.listen(engine, "before_cursor_execute", record)
        statements.clear()
        client.get("/messages/?page=2")
        per_page = len(statements)
        event.remove(engine, "before_cursor_execute", record)
        start = time.perf_counter()
        for _ in range(rounds):
            client.get("/messages/?page=2")
        elapsed = time.perf_counter() - start
        print(f"{size:>9} {1000 * elapsed / rounds:>10.2f} {per_page:>11}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
