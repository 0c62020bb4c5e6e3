"""The event feed on PostgreSQL (finding 9): ordered for readers without a lock held for the
whole of every writing transaction.

The promise (docs/api.md, "The event feed"): a reader that has seen id N never later finds an
event < N. It used to be kept by one advisory lock taken at the first event and held until
commit, which serialised every write (a booking waited behind an ERP import) and deadlocked with
the capacity locks. The lock is now taken just before the commit.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from famille_core import Portal
from famille_core.entities import DomainEvent, Family
from famille_core.services.sync import FamilyRecord, upsert_family
from famille_core.uow import Gte

pytestmark = pytest.mark.postgres


def lock_waiters(portal: Portal) -> int:
    """How many sessions of the test database wait for a lock right now."""
    with portal.storage.connect() as connection:  # type: ignore[attr-defined]
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).scalar_one()
        )


def finishes_without_waiting(portal: Portal, work: Callable[[], None]) -> bool:
    """Run ``work`` in a thread: True when it ends without ever waiting for a lock, False as
    soon as a session of the database waits (the caller then releases what it holds)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120  # a bound for a hung run, not a timing assertion
    waited = False
    while not done.wait(0.05):
        if lock_waiters(portal):
            waited = True
            break
        assert time.monotonic() < deadline, "the work neither ended nor waited"
    thread.join(timeout=0 if waited else 120)
    assert errors == []
    return not waited and done.is_set()


def _new_family(uow: Any, number: str) -> None:
    upsert_family(uow, FamilyRecord(external_id=f"ERP-{number}", family_number=number, name="T"))


def test_a_change_commits_while_another_transaction_that_wrote_events_stays_open(
    portal: Portal,
) -> None:
    """An ERP import (or any long transaction) that wrote events no longer makes others wait."""
    with portal.unit_of_work() as slow:
        _new_family(slow, "1")  # an event, flushed, in a transaction left open
        slow.flush()

        def quick() -> None:
            with portal.unit_of_work() as uow:
                _new_family(uow, "2")
                uow.commit()

        waited = not finishes_without_waiting(portal, quick)
        if waited:
            slow.rollback()  # let the other one finish before failing
        assert not waited, "a transaction waited for another one that had only written events"
        slow.commit()
    with portal.unit_of_work() as uow:
        events = uow.find(DomainEvent, entity="family", order_by=("id",))
        families = {f.id: f.family_number for f in uow.find(Family)}
    # Feed order is commit order: the quick transaction's event comes first.
    assert [families[e.entity_id] for e in events] == ["2", "1"]


NUMBERS = itertools.count(1000)
"""Family numbers, unique across the property's examples (the database is emptied after the
test only)."""


def _writer(portal: Portal, pause: float, in_commit: float, errors: list[BaseException]) -> None:
    """One transaction writing an event, pausing after its flush and inside its commit (after
    the events are inserted), so that commits interleave every way."""
    try:
        _write(portal, str(next(NUMBERS)), pause, in_commit)
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


def _write(portal: Portal, number: str, pause: float, in_commit: float) -> None:
    with portal.unit_of_work() as uow:
        _new_family(uow, number)
        uow.flush()
        time.sleep(pause)
        event.listen(uow.session, "before_commit", lambda _session: time.sleep(in_commit))  # type: ignore[attr-defined]
        uow.commit()


def _read_feed(portal: Portal, after: int, limit: int) -> list[int]:
    with portal.unit_of_work() as uow:
        return [e.id for e in uow.find(DomainEvent, id=Gte(after + 1), order_by=("id",), limit=limit)]  # type: ignore[misc]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pauses=st.lists(
        st.tuples(st.sampled_from([0, 0.001, 0.01, 0.03]), st.sampled_from([0, 0.005, 0.02])),
        min_size=12,
        max_size=24,
    ),
    limit=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_a_reader_following_the_feed_during_concurrent_writes_never_skips_an_event(
    portal: Portal, pauses: list[tuple[float, float]], limit: int, seed: int
) -> None:
    start = max(_read_feed(portal, 0, 10**6) or [0])
    errors: list[BaseException] = []
    order = list(pauses)
    random.Random(seed).shuffle(order)
    writers = [threading.Thread(target=_writer, args=(portal, p, c, errors)) for p, c in order]
    seen: list[int] = []
    cursor = start
    for writer in writers:
        writer.start()
    while any(w.is_alive() for w in writers):
        page = _read_feed(portal, cursor, limit)
        seen.extend(page)
        cursor = page[-1] if page else cursor
    for writer in writers:
        writer.join(timeout=60)
    while page := _read_feed(portal, cursor, limit):
        seen.extend(page)
        cursor = page[-1]
    every = _read_feed(portal, start, 10**6)
    assert errors == []
    assert len(every) == len(pauses)
    assert seen == every, "the reader skipped events that committed behind its cursor"
