"""One payment in flight per invoice (issue 12, finding 1; docs/security.md point 33): two tabs,
the back button, a double click or two simultaneous "Payer en ligne" never make two payments;
money that arrives twice anyway is recorded as an overpayment that agents refund."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import (
    Actor,
    AuditRecord,
    InvoiceStatus,
    Overpayment,
    PaymentState,
    RefundState,
    User,
)
from famille_plugins.billing.services import payments as services
from tests.conftest import csrf_token, login
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Recorder,
    Simulator,
    answer_urls,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)

PAY_BUTTON = "Payer en ligne</button>"


def _page(client: FlaskClient, invoice_id: int | None) -> str:
    return client.get(f"/factures/{invoice_id}").get_data(as_text=True)


def _assert_in_flight_page(page: str) -> None:
    """What a parent sees while a payment may still be paid."""
    assert "paiement en cours" in page
    assert PAY_BUTTON not in page
    assert "Vérifier maintenant" in page


def test_second_tab_continues_the_same_payment(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    first = start_payment(parent_client, invoice).headers["Location"]
    second = start_payment(parent_client, invoice).headers["Location"]  # another tab, a retry
    assert second == first  # the same idOp, not a second payment
    assert len(transactions(demo)) == 1
    _assert_in_flight_page(_page(parent_client, invoice.id))
    assert f'href="{first}"' in _page(parent_client, invoice.id)  # « Reprendre ce paiement »


def test_back_button_after_the_idop_lifetime_is_refused_while_payfip_says_p5(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, clock: FixedClock
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    start_payment(parent_client, invoice)
    clock.advance(timedelta(minutes=20))  # the idOp can no longer be resumed; PayFiP: P5
    response = start_payment(parent_client, invoice)
    assert response.headers["Location"].endswith(f"/factures/{invoice.id}")
    page = _page(parent_client, invoice.id)
    assert "Un paiement en ligne de cette facture est déjà en cours" in page
    _assert_in_flight_page(page)
    assert simulator.app.soap_calls.count("creerPaiementSecurise") == 1
    assert simulator.app.soap_calls[-1] == "recupererDetailPaiementSecurise"  # asked first
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]


def test_verifier_maintenant_asks_payfip_and_shows_the_paid_invoice(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, recorder: Recorder
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    location = start_payment(parent_client, invoice).headers["Location"]
    token = csrf_token(parent_client, f"/factures/{invoice.id}")
    check = f"/factures/{invoice.id}/verifier"
    page = parent_client.post(check, data={"csrf_token": token}, follow_redirects=True)
    assert "Le résultat du paiement n&#39;est pas encore connu." in page.get_data(as_text=True)
    simulator.choose(location, "payer", lose_notification=True)
    page = parent_client.post(check, data={"csrf_token": token}, follow_redirects=True)
    body = page.get_data(as_text=True)
    assert "payée" in body and "Vérifier maintenant" not in body and PAY_BUTTON not in body
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.PAID
    assert len(recorder.notices) == 1


def test_vérifier_maintenant_is_for_the_household_only(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    start_payment(parent_client, invoice)
    martin = app.test_client()
    login(martin, "martin@example.org", "martin-demo-password")
    token = csrf_token(martin, "/factures/")
    calls = len(simulator.app.soap_calls)
    response = martin.post(f"/factures/{invoice.id}/verifier", data={"csrf_token": token})
    assert response.status_code == 404 and len(simulator.app.soap_calls) == calls


@pytest.mark.parametrize(
    ("what_payfip_knows", "page_says", "states"),
    [
        # Paid, notification lost: credited by the check, nothing left to pay.
        ("payer", "Cette facture n&#39;a plus rien à régler.", [PaymentState.PAID]),
        # Forgotten by PayFiP (P1): that attempt expires and the new one starts.
        ("purge", None, [PaymentState.EXPIRED, PaymentState.PENDING]),
    ],
)
def test_an_older_pending_payment_is_settled_before_deciding(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    what_payfip_knows: str,
    page_says: str | None,
    states: list[PaymentState],
) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    location = start_payment(parent_client, invoice).headers["Location"]
    if what_payfip_knows == "purge":
        simulator.app.purge()
    else:
        simulator.choose(location, what_payfip_knows, lose_notification=True)
    clock.advance(timedelta(minutes=16))
    response = start_payment(parent_client, invoice)
    assert [t.state for t in transactions(demo)] == states
    if page_says:
        assert page_says in _page(parent_client, invoice.id)
    else:
        assert "/tpa/paiementws.web?idop=" in response.headers["Location"]


def _overpaid(demo: Portal, client: FlaskClient, sim: Simulator, clock: FixedClock) -> None:
    """A lost payment, then a new attempt, both paid: the review's scenario of money twice."""
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    first = start_payment(client, invoice).headers["Location"]
    clock.advance(timedelta(minutes=121))
    services.reconcile(demo)  # P5 for two hours: expired without a result
    login(client, "parent@example.org", "parent-demo-password")  # the session ended meanwhile
    second = start_payment(client, invoice).headers["Location"]
    client.get(path_of(sim.choose(second, "payer")))
    client.get(path_of(sim.choose(first, "payer")))  # … and the first one was paid too


def test_money_paid_twice_is_an_overpayment_never_a_negative_balance(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    recorder: Recorder,
) -> None:
    _overpaid(demo, parent_client, simulator, clock)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID, PaymentState.PAID]
    assert invoice.paid_amount == invoice.total and invoice.balance == 0
    with demo.unit_of_work() as uow:
        (overpayment,) = uow.find(Overpayment)
    first, _second = transactions(demo)
    assert (overpayment.transaction_id, overpayment.amount) == (first.id, Decimal("84.95"))
    assert [n.subject for n in recorder.notices] == [
        f"Paiement reçu — facture n° {DUPONT_OPEN}",
        f"Paiement reçu en trop — facture n° {DUPONT_OPEN}",
    ]
    assert "84,95\u00a0€ ont été reçus en trop" in recorder.notices[1].body or (
        "ce paiement a été reçu en trop" in recorder.notices[1].body
    )
    page = _page(parent_client, invoice.id)
    assert "-84,95" not in page and "payée" in page
    # The household's own data export (GDPR) holds it too.
    login(parent_client, "parent@example.org", "parent-demo-password")
    exported = parent_client.get("/compte/mes-donnees.json").get_json()
    assert [o["amount"] for o in exported["overpayments"]] == ["84.95"]


def test_agents_list_overpayments_and_mark_them_refunded_once(
    demo: Portal,
    parent_client: FlaskClient,
    agent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    recorder: Recorder,
) -> None:
    _overpaid(demo, parent_client, simulator, clock)
    login(agent_client, "agent@example.org", "agent-demo-password")  # hours later
    listed = agent_client.get("/gestion/paiements/trop-percus").get_data(as_text=True)
    assert "À rembourser" in listed and DUPONT_OPEN in listed and "84,95" in listed
    assert "DUPONT" in listed and "Marquer remboursé" in listed
    home = agent_client.get("/").get_data(as_text=True)
    assert "1 trop-perçu à rembourser" in home
    with demo.unit_of_work() as uow:
        (overpayment,) = uow.find(Overpayment)
    target = f"/gestion/paiements/trop-percus/{overpayment.id}/rembourse"
    token = csrf_token(agent_client, "/gestion/paiements/trop-percus")
    assert agent_client.post(target, data={"csrf_token": token}).status_code == 303
    again = agent_client.post(target, data={"csrf_token": token}, follow_redirects=True)
    assert "déjà marqué remboursé" in again.get_data(as_text=True)
    with demo.unit_of_work() as uow:
        (done,) = uow.find(Overpayment)
        agent = uow.first(User, email="agent@example.org")
        (record,) = uow.find(AuditRecord, action="overpayment_refunded")
    assert agent is not None
    assert (done.state, done.refunded_by) == (RefundState.REFUNDED, agent.id)
    assert done.refunded_at == clock.now()
    assert (record.actor_user_id, record.record_id) == (agent.id, overpayment.id)
    assert recorder.notices[-1].subject == f"Trop-perçu remboursé — facture n° {DUPONT_OPEN}"
    listed = agent_client.get("/gestion/paiements/trop-percus").get_data(as_text=True)
    assert "Aucun trop-perçu à rembourser." in listed and "remboursé le" in listed
    # Parents never reach it (the access matrix checks every agents' page).
    assert parent_client.get("/gestion/paiements/trop-percus").status_code == 404


def test_refunding_is_for_agents_in_the_service_too(demo: Portal) -> None:
    from famille_core.errors import PermissionDenied
    from famille_plugins.billing.services import agents

    with demo.unit_of_work() as uow:
        parent = uow.first(User, email="parent@example.org")
        assert parent is not None
        with pytest.raises(PermissionDenied):
            agents.mark_refunded(demo, uow, Actor.for_user(parent), 1)
        with pytest.raises(PermissionDenied):
            agents.decide(demo, uow, Actor.for_user(parent), 1, confirm=True)


# ---------------------------------------------------------------- simultaneous (PostgreSQL)


def _in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # surfaced by the assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
def test_two_simultaneous_payer_en_ligne_make_one_transaction(
    demo: Portal, app: Flask, simulator: Simulator
) -> None:
    """The acceptance test of issue 12: two tabs of one parent press it at the same instant."""
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    tabs = []
    for _ in range(2):
        tab = app.test_client()
        login(tab, "parent@example.org", "parent-demo-password")
        token = csrf_token(tab, f"/factures/{invoice.id}")
        tabs.append((tab, token))
    statuses = _in_parallel(
        [
            lambda tab=tab, token=token: (
                tab.post(
                    f"/factures/{invoice.id}/payer", data={"method": "payfip", "csrf_token": token}
                ).status_code
            )
            for tab, token in tabs
        ]
    )
    assert statuses == [303, 303]
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]
    assert simulator.app.soap_calls.count("creerPaiementSecurise") == 1
    _assert_in_flight_page(_page(tabs[0][0], invoice.id))


def _until_a_lock_is_awaited(portal: Portal) -> None:
    """Wait until a session of the test database waits for an advisory lock (PostgreSQL)."""
    from sqlalchemy import text

    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
    )
    for _ in range(300):
        with portal.storage.connect() as connection:  # type: ignore[attr-defined]
            if connection.execute(query).scalar():
                return
        time.sleep(0.1)
    raise AssertionError("the second start never waited for the invoice's lock")


@pytest.mark.postgres
def test_a_start_waits_for_the_other_one_under_the_invoice_lock(
    demo: Portal, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forced interleaving: the first start is held inside the lock, after it saw no pending
    payment and before it stores its own; the second start arrives then. It must wait, then
    find the first one pending and be refused (without the lock, both would store one)."""
    with demo.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        actor = Actor.for_user(user)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.id is not None
    inside, release = threading.Event(), threading.Event()
    real = services.offered_methods
    first_call = threading.Lock()

    def held(*args: Any) -> Any:
        if first_call.acquire(blocking=False):  # only the first start is held
            inside.set()
            assert release.wait(30)
        return real(*args)

    monkeypatch.setattr(services, "offered_methods", held)

    def start() -> Any:
        return services.start_payment(
            demo,
            actor,
            invoice.id or 0,
            "payfip",
            lambda t: (f"https://p/{t}/r", f"https://p/{t}/n"),
        )

    results: list[Any] = [None, None]

    def run(index: int) -> None:
        try:
            results[index] = start()
        except Exception as exc:
            results[index] = exc

    first = threading.Thread(target=run, args=(0,))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=run, args=(1,))
    second.start()
    _until_a_lock_is_awaited(demo)  # the second start waits for the invoice's lock
    release.set()
    first.join(60)
    second.join(60)
    assert not isinstance(results[0], Exception), results[0]
    assert isinstance(results[1], services.PaymentInFlight), results[1]
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]


@pytest.mark.postgres
def test_notification_racing_a_new_start_never_makes_a_second_payment(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    recorder: Recorder,
) -> None:
    """An old attempt paid at PayFiP: its notification and a new « Payer en ligne » at once."""
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    location = start_payment(parent_client, invoice).headers["Location"]
    simulator.choose(location, "payer", lose_notification=True)
    (transaction,) = transactions(demo)
    _back, notify = answer_urls(simulator, transaction)
    clock.advance(timedelta(minutes=16))
    token = csrf_token(parent_client, f"/factures/{invoice.id}")
    results = _in_parallel(
        [
            lambda: (
                app.test_client().post(notify, data={"idOp": transaction.provider_ref}).status_code
            ),
            lambda: (
                parent_client.post(
                    f"/factures/{invoice.id}/payer", data={"method": "payfip", "csrf_token": token}
                ).status_code
            ),
        ]
    )
    assert results == [200, 303]
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    paid = invoice_by_number(demo, DUPONT_OPEN)
    assert paid.paid_amount == paid.total and len(recorder.notices) == 1
