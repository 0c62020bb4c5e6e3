"""``famille reconcile-payments`` and ``famille payfip-simulator``: run as an administrator
would, against a real simulator process over HTTP (only the base URL is configured)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import (
    Actor,
    Invoice,
    InvoiceStatus,
    Message,
    Overpayment,
    PaymentState,
    PaymentTransaction,
    RefundState,
    User,
)
from famille_core.persistence import build_sql_portal
from famille_core.settings import load_settings
from famille_core.uow import Contains
from famille_plugins.billing.services import agents
from famille_plugins.billing.services import payments as services
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    MARTIN_OPEN,
    Simulator,
    invoice_by_number,
    start_payment,
    transactions,
)

FAMILLE = [sys.executable, "-c", "from host_flask.cli import main; main()"]
DEMO_TOML = Path(__file__).resolve().parents[3] / "host_flask" / "demo.toml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    for _ in range(300):  # a loaded machine starts the command line slowly
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


class Instance:
    """A fresh instance folder with the demo, configured to pay through ``simulator_url``."""

    def __init__(self, folder: Path, simulator_url: str) -> None:
        self.folder = folder
        self.config = folder / "famille.toml"
        self.env = {
            **os.environ,
            "FAMILLE_INSTANCE": str(folder),
            "FAMILLE_CONFIG": str(self.config),
        }
        self.env.pop("FAMILLE_DATABASE_URL", None)
        folder.mkdir(parents=True)
        text = re.sub(
            r"\n\[plugins\.tipi_payment\].*?(?=\n\[|\Z)", "", DEMO_TOML.read_text(), flags=re.S
        )
        self.config.write_text(f'{text}\n[plugins.tipi_payment]\nbase_url = "{simulator_url}"\n')

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*FAMILLE, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )

    def portal(self, clock: FixedClock | None = None) -> Portal:
        settings = load_settings(self.config)
        return build_sql_portal(
            settings,
            f"sqlite:///{self.folder / 'famille.sqlite'}",
            instance_path=self.folder,
            clock=clock,
        )


@pytest.fixture
def simulator_url(tmp_path: Path) -> Iterator[str]:
    """``famille payfip-simulator`` started as a separate process."""
    port = _free_port()
    process = subprocess.Popen(
        [*FAMILLE, "payfip-simulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "FAMILLE_INSTANCE": str(tmp_path / "sim")},
    )
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _fetch(url: str, data: bytes | None = None) -> str:
    """A page of the simulator, over real HTTP."""
    with urllib.request.urlopen(url, data=data, timeout=10) as response:  # noqa: S310
        return str(response.read().decode())


def _pay_on_simulator(location: str, *, lose_notification: bool) -> None:
    page = _fetch(location)
    assert "Paiement de votre facture" in page and "84,95 €" in page
    idop = re.search(r'name="idop" value="([^"]+)"', page)
    assert idop
    data = {"idop": idop.group(1), "choix": "payer"}
    if lose_notification:
        data["perdre"] = "1"
    target = urllib.parse.urljoin(location, "/tpa/paiementws.web")
    body = urllib.parse.urlencode(data).encode()
    assert "Paiement accepté" in _fetch(target, body)


def _start(portal: Portal, email: str = "parent@example.org", number: str = DUPONT_OPEN) -> str:
    """ "Payer en ligne"; PayFiP's notifications go nowhere (lost)."""
    with portal.unit_of_work() as uow:
        user = uow.first(User, email=email)
        invoice = uow.first(Invoice, number=number)
        assert user is not None and invoice is not None and invoice.id is not None
        actor, invoice_id = Actor.for_user(user), invoice.id
    redirect = services.start_payment(
        portal,
        actor,
        invoice_id,
        "payfip",
        lambda tid: (f"http://127.0.0.1:9/{tid}/retour", f"http://127.0.0.1:9/{tid}/notification"),
    )
    return redirect.url


def test_reconcile_payments_settles_a_payment_whose_notification_was_lost(
    tmp_path: Path, simulator_url: str
) -> None:
    instance = Instance(tmp_path / "instance", simulator_url)
    assert instance.run("init").returncode == 0
    assert instance.run("demo").returncode == 0
    portal = instance.portal()
    location = _start(portal)
    assert location.startswith(f"{simulator_url}/tpa/paiementws.web?idop=")
    _pay_on_simulator(location, lose_notification=True)  # the portal never hears of it
    # Another household's payment, left on PayFiP's page (P5).
    unpaid = _start(portal, "martin@example.org", MARTIN_OPEN)
    assert unpaid != location

    result = instance.run("reconcile-payments")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "2 paiement(s) en attente vérifié(s) ; réglé(s) : 1 paid ; toujours en attente : 1."
    )
    with portal.unit_of_work() as uow:
        states = [t.state for t in uow.find(PaymentTransaction, order_by=("id",))]
        invoice = uow.first(Invoice, number=DUPONT_OPEN)
    assert states == [PaymentState.PAID, PaymentState.PENDING]
    assert invoice is not None and invoice.balance == 0

    # The nightly purge: PayFiP no longer knows the idOp (P1), the attempt expires.
    _fetch(f"{simulator_url}/simulateur/purger", b"")
    result = instance.run("reconcile-payments")
    assert "réglé(s) : 1 expired ; toujours en attente : 0." in result.stdout


def test_simulator_serves_the_shipped_wsdl(simulator_url: str) -> None:
    wsdl = _fetch(f"{simulator_url}/tpa/services/securite?wsdl").encode()
    assert b"recupererDetailPaiementSecurise" in wsdl and b"creerPaiementSecurise" in wsdl


def test_waiting_result_expires_after_the_configured_delay(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, clock: FixedClock
) -> None:
    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))  # never paid: P5
    report = services.reconcile(demo)
    assert (report.checked, report.settled, report.still_pending) == (1, {}, 1)
    clock.advance(timedelta(minutes=121))
    report = services.reconcile(demo)
    assert report.settled == {"expired": 1}
    assert [t.state for t in transactions(demo)] == [PaymentState.EXPIRED]
    assert services.reconcile(demo).checked == 0


def test_technical_error_never_expires_a_payment(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from famille_plugins.tipi_payment.services import soap

    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))
    monkeypatch.setattr(soap, "TRANSPORT", lambda url, body, timeout: b"<not-soap/>")
    clock.advance(timedelta(days=2))
    report = services.reconcile(demo)
    assert (report.settled, report.still_pending) == ({}, 1)
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]


# ---------------------------------------------------------------- paid after expiry (finding 10)


def _late_instance(tmp_path: Path, simulator_url: str, clock: FixedClock) -> Portal:
    instance = Instance(tmp_path / "instance", simulator_url)
    assert instance.run("init").returncode == 0
    assert instance.run("demo").returncode == 0
    return instance.portal(clock)


def _expired_without_result(portal: Portal, clock: FixedClock) -> str:
    """A payment left on PayFiP's page (P5) until the reconciliation expires it."""
    location = _start(portal)
    clock.advance(timedelta(minutes=121))
    report = services.reconcile(portal)
    assert report.settled == {"expired": 1}
    (transaction,) = _all(portal)
    assert transaction.state is PaymentState.EXPIRED and transaction.awaits_late_answer
    return location


def _all(portal: Portal) -> list[PaymentTransaction]:
    with portal.unit_of_work() as uow:
        return uow.find(PaymentTransaction, order_by=("id",))


def _messages(portal: Portal) -> list[Message]:
    with portal.unit_of_work() as uow:
        return uow.find(Message, subject=Contains(DUPONT_OPEN), order_by=("id",))


def test_payment_paid_after_its_expiry_is_still_credited(
    tmp_path: Path, simulator_url: str, clock: FixedClock
) -> None:
    portal = _late_instance(tmp_path, simulator_url, clock)
    location = _expired_without_result(portal, clock)
    # PayFiP answered P5 for two hours; the payer finally pays (the notification is lost).
    _pay_on_simulator(location, lose_notification=True)
    clock.advance(timedelta(minutes=15))
    report = services.reconcile(portal)
    assert (report.late_checked, report.late_paid) == (1, 1)

    (transaction,) = _all(portal)
    assert transaction.state is PaymentState.PAID
    assert transaction.provider_data["late_outcome"] == "paid"
    invoice = invoice_by_number(portal, DUPONT_OPEN)
    assert invoice.status is InvoiceStatus.PAID and invoice.balance == 0
    (receipt,) = _messages(portal)  # the family is told
    assert receipt.subject == f"Paiement reçu — facture n° {DUPONT_OPEN}"
    assert "après l'expiration" in receipt.body
    with portal.unit_of_work() as uow:  # and the agents see it in « Paiements à vérifier »
        agent = uow.first(User, email="agent@example.org")
        assert agent is not None
        _waiting, late = agents.to_check(portal, uow, Actor.for_user(agent))
    assert [row.transaction.id for row in late] == [transaction.id]
    assert services.reconcile(portal).late_checked == 0  # settled: never asked again


def test_late_payment_of_an_invoice_paid_meanwhile_becomes_an_overpayment(
    tmp_path: Path, simulator_url: str, clock: FixedClock
) -> None:
    portal = _late_instance(tmp_path, simulator_url, clock)
    first = _expired_without_result(portal, clock)
    second = _start(portal)  # expired: a new attempt may start, and is paid
    _pay_on_simulator(second, lose_notification=True)
    assert services.reconcile(portal).settled == {"paid": 1}
    _pay_on_simulator(first, lose_notification=True)  # … and so is the first one, late
    report = services.reconcile(portal)
    assert report.late_paid == 1

    assert [t.state for t in _all(portal)] == [PaymentState.PAID, PaymentState.PAID]
    invoice = invoice_by_number(portal, DUPONT_OPEN)
    assert invoice.paid_amount == invoice.total == Decimal("84.95") and invoice.balance == 0
    with portal.unit_of_work() as uow:
        (overpayment,) = uow.find(Overpayment)
    assert overpayment.amount == Decimal("84.95") and overpayment.invoice_id == invoice.id
    assert overpayment.state is RefundState.TO_REFUND
    assert [m.subject for m in _messages(portal)] == [
        f"Paiement reçu — facture n° {DUPONT_OPEN}",
        f"Paiement reçu en trop — facture n° {DUPONT_OPEN}",
    ]
    assert "La régie vous remboursera" in _messages(portal)[1].body


def test_late_check_ends_when_payfip_forgets_the_operation(
    tmp_path: Path, simulator_url: str, clock: FixedClock
) -> None:
    portal = _late_instance(tmp_path, simulator_url, clock)
    _expired_without_result(portal, clock)
    _fetch(f"{simulator_url}/simulateur/purger", b"")  # P1: PayFiP no longer knows it
    assert services.reconcile(portal).late_checked == 1
    (transaction,) = _all(portal)
    assert transaction.state is PaymentState.EXPIRED and not transaction.awaits_late_answer
    assert services.reconcile(portal).late_checked == 0
