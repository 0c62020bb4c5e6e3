"""Model-based test (docs/security.md point 23, for payments): whatever the order of payments
started (twice on one invoice, from two tabs), paid, refused, cancelled, notified (again and
again), forged, reconciled, left to expire and paid after their expiry, each payment is credited
at most once, only when PayFiP says so; at most one payment is pending per invoice; final states
never change (except expired-without-result → paid, late); the invoice's paid amount is its
paid payments minus their surplus, which is always recorded as an overpayment."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

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
    Overpayment,
    PaymentState,
    PaymentTransaction,
    User,
)
from famille_core.errors import ValidationFailed
from famille_plugins.billing.services import payments as services
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
    reached: Counter[str] = Counter()  # what the runs really did, across examples

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
            self.refused = False

        def _urls(self, tid: int) -> tuple[str, str]:
            return f"https://p.example/{tid}/r", f"https://p.example/{tid}/n"

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
            except services.PaymentInFlight:  # a second tab, the back button, a retry
                self.refused = True
                assert [t.state for t in self._transactions()].count(PaymentState.PENDING) == 1
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
                services.handle_answer(demo, tid, {"idOp": self._ref(tid)})

        @rule(tid=attempts)
        def forged_answer(self, tid: int) -> None:
            if tid > 0:  # anyone may post to the answer URLs: PayFiP is asked, nothing else
                services.handle_answer(demo, tid, {"resultrans": "P", "montant": "4210"})

        @rule(target=attempts)
        def start_twice(self) -> int:
            """Two tabs, or a double click: the second start never makes a second payment."""
            first = self.start()
            second = self.start()
            assert first == -1 or second == -1
            return max(first, second)

        @rule(target=attempts)
        def retry_hours_later(self) -> int:
            """The payer left PayFiP's page open; hours later (the attempt expired without a
            result) they start again: both attempts may still be paid at PayFiP."""
            self.reconcile_hours_later()
            return self.start()

        @rule(notified=st.booleans())
        def payer_pays_every_attempt(self, notified: bool) -> None:
            """The payer pays every operation PayFiP still offers (two tabs, both paid)."""
            for t in self._transactions():
                operation = simulator.app.operations.get(t.provider_ref or "")
                if operation is not None and operation.result is None and t.id is not None:
                    simulator.app._decide(operation, "payer")
                    if notified:
                        self.notification(t.id, 1)

        @rule()
        def reconcile(self) -> None:
            services.reconcile(demo)

        @rule()
        def reconcile_hours_later(self) -> None:
            """The cron job, after PayFiP's P5 lasted longer than pending_expiry_minutes."""
            clock.advance(timedelta(minutes=130))
            services.reconcile(demo)

        @rule(tid=consumes(attempts), minutes=st.sampled_from([10, 45, 130]))
        def time_passes(self, tid: int, minutes: int) -> None:
            clock.advance(timedelta(minutes=minutes))  # 130: past pending_expiry_minutes

        def _ref(self, tid: int) -> str:
            return next((t.provider_ref or "" for t in self._transactions() if t.id == tid), "")

        @invariant()
        def money_is_right(self) -> None:
            transactions = self._transactions()
            with demo.unit_of_work() as uow:
                invoice = uow.get(Invoice, self.invoice_id)
            assert invoice is not None
            with demo.unit_of_work() as uow:
                found = uow.find(Overpayment, invoice_id=self.invoice_id)
                surplus = {o.transaction_id: o.amount for o in found}
            paid = [t for t in transactions if t.state is PaymentState.PAID]
            received = sum((t.amount for t in paid), Decimal("0.00"))
            kept = sum((surplus.get(t.id or 0, Decimal("0")) for t in paid), Decimal("0.00"))
            assert invoice.paid_amount == received - kept  # the rest is an overpayment
            assert 0 <= invoice.balance <= invoice.total
            assert kept == max(Decimal("0.00"), received - invoice.total), "surplus not recorded"
            assert set(surplus) <= {t.id for t in paid}
            assert (invoice.status is InvoiceStatus.PAID) == (invoice.balance <= 0)
            assert [t.state for t in transactions].count(PaymentState.PENDING) <= 1
            for t in paid:  # paid only when PayFiP says so
                assert simulator.app.operations[t.provider_ref or ""].result == "P"
            for t in transactions:
                assert t.id is not None
                before = self.seen.get(t.id, PaymentState.PENDING)
                late = before is PaymentState.EXPIRED and t.provider_data.get("late_outcome")
                if before.is_final and not (late == "paid" and t.state is PaymentState.PAID):
                    assert t.state is before, "a final state changed"
                self.seen[t.id] = t.state
            receipts = [n for n in recorder.notices if n.subject.endswith(f"n° {self.number}")]
            assert len(receipts) == len(paid)  # one receipt per paid payment
            reached.update(
                {"paid late": any(t.provider_data.get("late_outcome") == "paid" for t in paid)}
                | {"overpaid": bool(surplus.keys() & {t.id for t in paid})}
                | {"start refused": self.refused}
            )

    run_state_machine_as_test(
        Payments,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # The runs must have refused second starts, or the one-in-flight rule went untested here
    # (late payments and overpayments are reached often, not always: test_commands.py and
    # test_one_payment_in_flight.py reach them every time).
    assert reached["start refused"], reached
