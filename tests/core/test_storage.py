"""The SQL unit of work: criteria, exact money, aware instants, optimistic locking, rollback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from famille_core import Conflict
from famille_core.entities import (
    Activity,
    Family,
    FiscalData,
    HealthRecord,
    Invoice,
    InvoiceStatus,
    ReservationState,
    Vaccination,
)
from famille_core.uow import Between, Contains, In, Linked, Not


def _family(uow, number: str = "F1", name: str = "DUPONT") -> Family:  # type: ignore[no-untyped-def]
    family = Family(family_number=number, name=name)
    uow.add(family)
    uow.flush()
    return family


def test_money_is_exact_to_the_cent(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        family = _family(uow)
        total = Decimal("4.15") * 17  # 70.55, which binary floats get wrong
        uow.add(
            Invoice(
                family_id=family.id,
                number="1",
                reference="2026-XX-00-0001",
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 11, 30),
                total=total,
            )
        )
        uow.commit()
    with portal.unit_of_work() as uow:
        invoice = uow.first(Invoice, number="1")
        assert invoice.total == Decimal("70.55")
        assert invoice.balance == Decimal("70.55")
        assert invoice.status is InvoiceStatus.OPEN


def test_float_money_is_refused(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        family = _family(uow)
        uow.add(
            Invoice(
                family_id=family.id,
                number="1",
                reference="R1",
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 11, 30),
                total=70.55,
            )
        )  # type: ignore[arg-type]
        with pytest.raises(Exception, match="float"):
            uow.flush()


def test_criteria_and_ordering(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        for number, name in [
            ("F1", "DUPONT"),
            ("F2", "MARTIN"),
            ("F3", "BERNARD"),
            ("F4", "Dupuis"),
        ]:
            _family(uow, number, name)
        uow.commit()
        assert [f.name for f in uow.find(Family, order_by=("name",))] == [
            "BERNARD",
            "DUPONT",
            "Dupuis",
            "MARTIN",
        ]
        assert [
            f.family_number
            for f in uow.find(Family, family_number=In(["F1", "F3"]), order_by=("-family_number",))
        ] == ["F3", "F1"]
        assert {f.name for f in uow.find(Family, name=Contains("dup"))} == {"DUPONT", "Dupuis"}
        assert uow.count(Family, family_number=Between("F2", "F3")) == 2
        assert uow.count(Family, external_id=None) == 4
        assert uow.count(Family, name=Not("DUPONT")) == 3
        assert len(uow.find(Family, order_by=("id",), limit=2, offset=1)) == 2


def test_contains_escapes_wildcards(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        _family(uow, "F1", "DUPONT")
        _family(uow, "F2", "100% MARTIN")
        uow.commit()
        assert [f.name for f in uow.find(Family, name=Contains("%"))] == ["100% MARTIN"]


def test_linked_reads_through_a_link_in_one_query(portal) -> None:  # type: ignore[no-untyped-def]
    from famille_core.entities import Child, FamilyChild

    with portal.unit_of_work() as uow:
        ours, theirs = _family(uow, "F1"), _family(uow, "F2", "MARTIN")
        kids = [Child(first_name=name, last_name="X") for name in ("Zoé", "Anna", "Léo")]
        for kid in kids:
            uow.add(kid)
        uow.flush()
        uow.add(FamilyChild(family_id=ours.id, child_id=kids[0].id))
        uow.add(FamilyChild(family_id=ours.id, child_id=kids[1].id))
        uow.add(FamilyChild(family_id=theirs.id, child_id=kids[2].id))
        uow.commit()
        household = Linked(FamilyChild, "child_id", {"family_id": ours.id})
        assert [c.first_name for c in uow.find(Child, id=household, order_by=("first_name",))] == ["Anna", "Zoé"]
        other = Linked(FamilyChild, "child_id", {"family_id": ours.id, "child_id": In([kids[2].id])})
        assert uow.find(Child, id=other) == []
        assert uow.count(Child, id=Linked(FamilyChild, "child_id", {"family_id": theirs.id})) == 1


def test_aware_instants_round_trip_in_utc(portal) -> None:  # type: ignore[no-untyped-def]
    instant = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with portal.unit_of_work() as uow:
        family = Family(family_number="F1", name="DUPONT", created_at=instant)
        uow.add(family)
        uow.commit()
    with portal.unit_of_work() as uow:
        stored = uow.first(Family, family_number="F1")
        assert stored.created_at == instant and stored.created_at.tzinfo is not None


def test_structured_json_and_exact_shares(portal) -> None:  # type: ignore[no-untyped-def]
    from famille_core.entities import Child

    with portal.unit_of_work() as uow:
        family = _family(uow)
        child = Child(first_name="Emma", last_name="DUPONT")
        uow.add(child)
        uow.flush()
        uow.add(
            HealthRecord(child_id=child.id, vaccinations=[Vaccination("DTP", date(2020, 12, 1))])
        )
        uow.add(
            FiscalData(
                family_id=family.id,
                year=2025,
                reference_income=Decimal("42000"),
                tax_shares=Decimal("2.5"),
            )
        )
        uow.commit()
    with portal.unit_of_work() as uow:
        record = uow.first(HealthRecord)
        assert record.vaccinations == [Vaccination("DTP", date(2020, 12, 1))]
        fiscal = uow.first(FiscalData)
        assert fiscal.tax_shares == Decimal("2.50")
        assert fiscal.quotient == Decimal("1400.00")


def test_concurrent_edit_raises_conflict_not_silent_overwrite(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        _family(uow)
        uow.commit()
    with portal.unit_of_work() as first, portal.unit_of_work() as second:
        a = first.first(Family, family_number="F1")
        b = second.first(Family, family_number="F1")
        a.name = "DUPONT-A"
        first.commit()
        b.name = "DUPONT-B"
        with pytest.raises(Conflict):
            second.commit()
    with portal.unit_of_work() as uow:
        assert uow.first(Family, family_number="F1").name == "DUPONT-A"


def test_leaving_without_commit_changes_nothing_and_skips_callbacks(portal) -> None:  # type: ignore[no-untyped-def]
    called = []
    with portal.unit_of_work() as uow:
        _family(uow)
        uow.after_commit(lambda: called.append("yes"))
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 0
    assert called == []


def test_objects_read_stay_readable_after_the_unit_closes(portal) -> None:  # type: ignore[no-untyped-def]
    with portal.unit_of_work() as uow:
        _family(uow, name="MARTIN")
        uow.commit()
    with portal.unit_of_work() as uow:
        family = uow.first(Family, family_number="F1")
    assert family.name == "MARTIN"


def test_failing_unit_discards_its_flushed_changes(portal) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), portal.unit_of_work() as uow:
        family = _family(uow)
        family.name = "CHANGED"
        raise RuntimeError("boom")
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 0


def test_after_commit_callbacks_run_once_committed(portal) -> None:  # type: ignore[no-untyped-def]
    seen = []
    with portal.unit_of_work() as uow:
        _family(uow)
        uow.after_commit(lambda: seen.append(uow.count(Family)))
        assert seen == []
        uow.commit()
    assert seen == [1]


def test_after_rollback_callbacks_run_only_for_work_that_is_not_kept(portal) -> None:  # type: ignore[no-untyped-def]
    """What a unit of work wrote outside the database (a stored file) is undone with it."""
    undone: list[str] = []
    with portal.unit_of_work() as uow:
        _family(uow, number="F1")
        uow.after_rollback(lambda: undone.append("kept"))
        uow.commit()  # committed: never undone, even when the unit closes later
        _family(uow, number="F2")
        uow.after_rollback(lambda: undone.append("rolled back"))
        uow.rollback()
        _family(uow, number="F3")
        uow.after_rollback(lambda: undone.append("thrown away"))
        uow.flush()
    assert undone == ["rolled back", "thrown away"]
    with portal.unit_of_work() as uow:
        assert [f.family_number for f in uow.find(Family)] == ["F1"]


def test_named_lock_and_grouped_counts(portal) -> None:  # type: ignore[no-untyped-def]
    from famille_core.entities import Child, Reservation

    with portal.unit_of_work() as uow:
        family = _family(uow)
        activity = Activity(code="CANTINE", label="Cantine", unit_price=Decimal("4.15"))
        uow.add(activity)
        children = [Child(first_name=f"E{i}", last_name="X") for i in range(3)]
        for child in children:
            uow.add(child)
        uow.flush()
        uow.lock(f"capacity:{activity.id}:2026-11-17")  # re-entrant within a transaction
        uow.lock(f"capacity:{activity.id}:2026-11-17")
        now = datetime.now(UTC)
        for i, child in enumerate(children):
            uow.add(
                Reservation(
                    child_id=child.id,
                    activity_id=activity.id,
                    family_id=family.id,
                    day=date(2026, 11, 17) + timedelta(days=i % 2),
                    created_at=now,
                    state=ReservationState.ACCEPTED,
                )
            )
        uow.commit()
        counts = uow.count_by(Reservation, ("day",), activity_id=activity.id)
        assert counts == {(date(2026, 11, 17),): 2, (date(2026, 11, 18),): 1}
        # A linked entity's field: the children's schools, counted by the database.
        children[0].school = children[1].school = "École A"
        children[2].school = "École B"
        uow.flush()
        by_school = uow.count_by(Reservation, ("day", "child.school"), activity_id=activity.id)
        assert by_school == {
            (date(2026, 11, 17), "École A"): 1,
            (date(2026, 11, 18), "École A"): 1,
            (date(2026, 11, 17), "École B"): 1,
        }


@pytest.mark.postgres
def test_named_lock_serialises_check_then_insert_under_concurrency(portal) -> None:  # type: ignore[no-untyped-def]
    """20 threads each add a household only while fewer than 5 exist: exactly 5 are created."""
    import threading

    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with portal.unit_of_work() as uow:
                barrier.wait(timeout=30)
                uow.lock("households")
                if uow.count(Family) < 5:
                    uow.add(Family(family_number=f"T{index}", name="TEST"))
                    uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 5


def test_duplicate_insert_is_a_conflict_and_changes_nothing(portal) -> None:  # type: ignore[no-untyped-def]
    """A double submission that slips past the checks hits a unique constraint: the person
    gets a clear conflict, not a server error, and nothing of the transaction is written."""
    with portal.unit_of_work() as uow:
        _family(uow, "F1")
        uow.commit()
    with portal.unit_of_work() as uow:
        uow.add(Family(family_number="F2", name="MARTIN"))
        uow.add(Family(family_number="F1", name="DOUBLON"))
        with pytest.raises(Conflict, match="existe déjà"):
            uow.commit()
    with portal.unit_of_work() as uow:
        assert sorted(f.family_number for f in uow.find(Family)) == ["F1"]


def test_records_written_together_that_clash_are_a_conflict_without_their_values(portal) -> None:  # type: ignore[no-untyped-def]
    """``uow.add_many`` (an import's households: one INSERT on SQLite, one COPY on
    PostgreSQL) meets the unique constraint as the ORM's flush does: a French conflict, nothing
    of the transaction written, and no value of the rows in the error (docs/security.md
    point 38)."""
    with portal.unit_of_work() as uow:
        _family(uow, "F1")
        uow.commit()
    with portal.unit_of_work() as uow, pytest.raises(Conflict, match="existe déjà") as raised:
        uow.add_many([Family(family_number="F2", name="MARTIN"), Family(family_number="F1", name="DOUBLON")])
    assert "DOUBLON" not in repr(raised.value.__cause__) and "F1" not in str(raised.value.__cause__)
    with portal.unit_of_work() as uow:
        assert sorted(f.family_number for f in uow.find(Family)) == ["F1"]


def test_failing_after_commit_callback_is_logged_not_raised(portal, caplog) -> None:  # type: ignore[no-untyped-def]
    """The change is committed: an e-mail server that is down must not turn it into an error."""
    ran = []

    def broken() -> None:
        raise OSError("SMTP server unreachable")

    with portal.unit_of_work() as uow:
        _family(uow)
        uow.after_commit(broken)
        uow.after_commit(lambda: ran.append("second"))
        uow.commit()
    assert ran == ["second"]
    assert "after-commit callback failed" in caplog.text
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 1


@pytest.mark.postgres
def test_a_deadlock_is_a_french_conflict_and_the_other_transaction_goes_on(portal) -> None:  # type: ignore[no-untyped-def]
    """Two transactions lock "a" and "b" in opposite orders (forced interleaving): PostgreSQL
    gives one up; its unit of work raises Conflict with a French message (never a raw
    DeadlockDetected, which was a 500) and the other one commits."""
    import threading
    import time

    from tests.core.test_event_feed import lock_waiters

    first_locked = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def worker(name: str, first: str, second: str, wait_for_other: bool) -> None:
        try:
            with portal.unit_of_work() as uow:
                uow.lock(first)
                first_locked.wait(timeout=30)
                if wait_for_other:  # take the second lock only once the other one waits
                    deadline = time.monotonic() + 60
                    while not lock_waiters(portal):
                        assert time.monotonic() < deadline
                        time.sleep(0.02)
                uow.lock(second)
                uow.add(Family(family_number=name, name="TEST"))
                uow.commit()
            outcomes[name] = "committed"
        except Conflict as exc:
            outcomes[name] = exc.message

    threads = [
        threading.Thread(target=worker, args=("A", "deadlock:a", "deadlock:b", False)),
        threading.Thread(target=worker, args=("B", "deadlock:b", "deadlock:a", True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes.values()) == sorted(
        ["committed", "Une autre demande modifiait les mêmes données au même moment : "
         "rien n'a été enregistré. Réessayez."]
    )
    winner = next(name for name, outcome in outcomes.items() if outcome == "committed")
    with portal.unit_of_work() as uow:
        assert [f.family_number for f in uow.find(Family)] == [winner]


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_a_validation_error_not_a_server_error(portal) -> None:  # type: ignore[no-untyped-def]
    """A service that forgot to check a length still gives a French message, and nothing is
    written (SQLite would have stored the text whole)."""
    from famille_core.errors import ValidationFailed

    with portal.unit_of_work() as uow:
        uow.add(Family(family_number="1" * 41, name="TROP LONG"))
        with pytest.raises(ValidationFailed, match="rien n'a été enregistré"):
            uow.commit()
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 0


def test_a_page_reads_an_sqlite_file_while_a_booking_is_being_committed(tmp_path: Path) -> None:
    """SQLite files run in write-ahead-log mode (docs/deployment.md): a reader is never refused
    by a writer that holds the database's write lock, even in the middle of its commit, where
    the default rollback journal locks every reader out."""
    from sqlalchemy import text

    from famille_core.persistence import make_engine

    url = f"sqlite:///{tmp_path / 'famille.sqlite'}"
    writer, reader = make_engine(url), make_engine(url, connect_args={"timeout": 0})
    with writer.begin() as connection:
        connection.execute(text("CREATE TABLE day (n INTEGER)"))
        connection.execute(text("INSERT INTO day VALUES (1)"))
    with writer.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")  # what a commit holds while it writes
        connection.execute(text("INSERT INTO day VALUES (2)"))
        with reader.connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout=0")
            assert other.execute(text("SELECT count(*) FROM day")).scalar_one() == 1
        connection.exec_driver_sql("ROLLBACK")
