"""Every multi-row change is one transaction (docs/security.md point 21): a failure in the middle —
here a plugin that crashes, or the database refusing a row — leaves nothing half-done."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from famille_core import Portal, hookimpl
from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    Child,
    Invoice,
    InvoiceLine,
    Reservation,
    User,
)
from famille_core.services.sync import InvoiceLineRecord, InvoiceRecord, upsert_invoice
from famille_core.uow import Between
from famille_plugins.calendar.services import absences, booking

DECEMBER = (date(2026, 11, 30), date(2026, 12, 11))


class CrashOnThirdDay:
    """A plugin with a bug: its checks crash on the third day they see."""

    def __init__(self) -> None:
        self.seen = 0

    def _tick(self) -> list[Any]:
        self.seen += 1
        if self.seen == 3:
            raise RuntimeError("plugin bug")
        return []

    @hookimpl
    def validate_reservation(self, portal: Any, reservation: Any, actor: Any) -> list[Any]:
        return self._tick()

    @hookimpl
    def validate_absence(self, portal: Any, absence: Any, actor: Any) -> list[Any]:
        return self._tick()


@pytest.fixture
def extra_plugins() -> list[object]:
    return [CrashOnThirdDay()]


def _parent_and_lucas(portal: Portal) -> tuple[Actor, int, int]:
    with portal.unit_of_work() as uow:
        parent = uow.first(User, email="parent@example.org")
        lucas = uow.first(Child, first_name="Lucas")
        canteen = uow.first(Activity, code="CANTINE")
        assert parent and lucas and canteen and lucas.id and canteen.id
        return Actor.for_user(parent, authenticated_at=portal.clock.now()), lucas.id, canteen.id


def _rows(portal: Portal, cls: type, child_id: int) -> int:
    with portal.unit_of_work() as uow:
        return uow.count(cls, child_id=child_id, day=Between(*DECEMBER))


def test_a_weekly_pattern_that_crashes_midway_books_nothing(demo: Portal) -> None:
    actor, lucas, canteen = _parent_and_lucas(demo)
    before = _rows(demo, Reservation, lucas)
    with pytest.raises(RuntimeError), demo.unit_of_work() as uow:
        booking.reserve_pattern(demo, uow, actor, lucas, canteen, [0, 1, 3, 4], *DECEMBER)
        uow.commit()
    assert _rows(demo, Reservation, lucas) == before


def test_an_absence_range_that_crashes_midway_declares_nothing(demo: Portal) -> None:
    actor, lucas, canteen = _parent_and_lucas(demo)
    with pytest.raises(RuntimeError), demo.unit_of_work() as uow:
        absences.declare_absence(demo, uow, actor, lucas, *DECEMBER, "MEDICAL", activity_id=canteen)
        uow.commit()
    assert _rows(demo, Absence, lucas) == 0


def _invoice(lines: list[str]) -> InvoiceRecord:
    return InvoiceRecord(
        external_id="ATOMIC-1",
        family="ERP-694504900001",
        number="A0001",
        reference="2026-AT-01-0001",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        lines=[InvoiceLineRecord(label=label, unit_price=Decimal("3.10")) for label in lines],
    )


def _failing_on_second_line(uow: Any) -> None:
    """Make the unit of work refuse the second invoice line it is given (a database error)."""
    add = uow.add
    lines = []

    def add_or_fail(entity: object) -> None:
        if isinstance(entity, InvoiceLine):
            lines.append(entity)
            if len(lines) == 2:
                raise RuntimeError("the database refused the line")
        add(entity)

    uow.add = add_or_fail


def test_a_new_invoice_whose_second_line_fails_is_not_stored_at_all(demo: Portal) -> None:
    with pytest.raises(RuntimeError), demo.unit_of_work() as uow:
        _failing_on_second_line(uow)
        upsert_invoice(uow, _invoice(["Cantine", "Garderie", "Étude"]))
        uow.commit()
    with demo.unit_of_work() as uow:
        assert uow.first(Invoice, external_id="ATOMIC-1") is None
        assert uow.count(InvoiceLine, label="Cantine") == 0


def test_a_replaced_invoice_keeps_its_old_lines_when_the_new_ones_fail(demo: Portal) -> None:
    with demo.unit_of_work() as uow:
        upsert_invoice(uow, _invoice(["Cantine"]))
        uow.commit()
    with pytest.raises(RuntimeError), demo.unit_of_work() as uow:
        _failing_on_second_line(uow)
        upsert_invoice(uow, _invoice(["Garderie", "Étude", "Piscine"]))
        uow.commit()
    with demo.unit_of_work() as uow:
        invoice = uow.first(Invoice, external_id="ATOMIC-1")
        assert invoice is not None and invoice.total == Decimal("3.10")
        labels = [line.label for line in uow.find(InvoiceLine, invoice_id=invoice.id)]
    assert labels == ["Cantine"]
