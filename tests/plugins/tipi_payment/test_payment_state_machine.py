"""Model-based test (security.md point 23, for payments): whatever the order of payments
started, paid, refused, cancelled, notified (again and again), forged, reconciled and left to
expire, each payment is credited at most once, only when PayFiP says so, final states never
change, and the invoice's paid amount is the sum of its paid payments."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from famille_core import FixedClock, Portal
from famille_core.entities import (
    Actor,
    Family,
    Invoice,
    InvoiceStatus,
    PaymentState,
    PaymentTransaction,
    User,
)
from famille_core.errors import NotFound, ValidationFailed
from famille_plugins.tipi_payment import services
from tests.plugins.tipi_payment.conftest import Recorder, Simulator

NUMBERS = itertools.count(1)


def test_payments_keep_the_money_invariants(
    demo: Portal, simulator: Simulator, clock: FixedClock, recorder: Recorder
) -> None:
    with demo.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        family = uow.first(Family, family_number="694504900001")
        assert user is not None and family is not None
        actor, family_id = Actor.for_user(user), family.id
    assert family_id is not None
    start = clock.now()

    class Payments(RuleBasedStateMachine):
        attempts = Bundle("attempts")

        def __init__(self) -> None:
            super().__init__()
            number = next(NUMBERS)
            with demo.unit_of_work() as uow:
                invoice = Invoice(
                    family_id=family_id,
                    number=f"SM{number:06d}",
                    reference=f"2026-SM-00-{number:04d}",
                    issue_date=date(2026, 11, 2),
                    due_date=date(2026, 11, 30),
                    total=Decimal("42.10"),
                )
                uow.add(invoice)
                uow.commit()
            assert invoice.id is not None
            self.invoice_id = invoice.id
            self.seen: dict[int, PaymentState] = {}
            self.number = invoice.number
            clock.instant = start  # each example starts at the same instant
            self.tokens: dict[int, str] = {}

        def _urls(self, tid: int, token: str) -> tuple[str, str]:
            self.tokens[tid] = token
            return f"https://p.example/{tid}/{token}/r", f"https://p.example/{tid}/{token}/n"

        def _transactions(self) -> list[PaymentTransaction]:
            with demo.unit_of_work() as uow:
                return uow.find(PaymentTransaction, invoice_id=self.invoice_id, order_by=("id",))

        @initialize(target=attempts)
        def first_attempt(self) -> int:
            return self.start()

        @rule(target=attempts)
        def start(self) -> int:
            before = {t.id for t in self._transactions()}
            try:
                services.start_payment(demo, actor, self.invoice_id, "payfip", self._urls)
            except ValidationFailed:
                with demo.unit_of_work() as uow:
                    invoice = uow.get(Invoice, self.invoice_id)
                    assert invoice is not None and invoice.status is InvoiceStatus.PAID
                return -1
            (new,) = [t for t in self._transactions() if t.id not in before]
            assert new.id is not None
            return new.id

        @rule(
            tid=attempts,
            choice=st.sampled_from(["payer", "refuser", "annuler"]),
            notified=st.booleans(),
        )
        def payer_decides(self, tid: int, choice: str, notified: bool) -> None:
            ref = self._ref(tid)
            if ref and ref in simulator.app.operations:
                simulator.app._decide(simulator.app.operations[ref], choice)
                if notified:  # PayFiP's notification (else it was lost)
                    self.notification(tid, 1)

        @rule(tid=attempts, times=st.integers(min_value=1, max_value=3))
        def notification(self, tid: int, times: int) -> None:
            for _ in range(times if tid > 0 else 0):  # PayFiP's, or the browser's, or replays
                services.handle_answer(demo, tid, self.tokens[tid], {"idOp": self._ref(tid)})

        @rule(tid=attempts)
        def forged_answer(self, tid: int) -> None:
            if tid > 0:
                with pytest.raises(NotFound):
                    services.handle_answer(demo, tid, "forged", {"resultrans": "P"})

        @rule()
        def reconcile(self) -> None:
            services.reconcile(demo)

        @rule(tid=consumes(attempts))
        def time_passes(self, tid: int) -> None:
            clock.advance(timedelta(minutes=45))

        def _ref(self, tid: int) -> str:
            return next((t.provider_ref or "" for t in self._transactions() if t.id == tid), "")

        @invariant()
        def money_is_right(self) -> None:
            transactions = self._transactions()
            with demo.unit_of_work() as uow:
                invoice = uow.get(Invoice, self.invoice_id)
            assert invoice is not None
            paid = [t for t in transactions if t.state is PaymentState.PAID]
            assert invoice.paid_amount == sum((t.amount for t in paid), Decimal("0.00"))
            assert (invoice.status is InvoiceStatus.PAID) == (invoice.balance <= 0)
            for t in paid:  # paid only when PayFiP says so
                assert simulator.app.operations[t.provider_ref or ""].result == "P"
            for t in transactions:
                assert t.id is not None
                if self.seen.get(t.id, PaymentState.PENDING).is_final:
                    assert t.state is self.seen[t.id], "a final state changed"
                self.seen[t.id] = t.state
            receipts = [n for n in recorder.notices if n.subject.endswith(f"n° {self.number}")]
            assert len(receipts) == len(paid)  # one receipt per paid payment

    run_state_machine_as_test(
        Payments,
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
