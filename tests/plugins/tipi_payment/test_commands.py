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
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import Actor, Invoice, PaymentState, PaymentTransaction, User
from famille_core.persistence import build_sql_portal
from famille_core.settings import load_settings
from famille_plugins.tipi_payment import services
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
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
    for _ in range(100):
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

    def portal(self) -> Portal:
        settings = load_settings(self.config)
        return build_sql_portal(
            settings, f"sqlite:///{self.folder / 'famille.sqlite'}", instance_path=self.folder
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


def _start(portal: Portal) -> str:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        invoice = uow.first(Invoice, number=DUPONT_OPEN)
        assert user is not None and invoice is not None and invoice.id is not None
        actor, invoice_id = Actor.for_user(user), invoice.id
    redirect = services.start_payment(
        portal,
        actor,
        invoice_id,
        "payfip",
        lambda tid, token: (
            f"http://127.0.0.1:9/{tid}/{token}/retour",
            f"http://127.0.0.1:9/{tid}/{token}/notification",
        ),
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
    unpaid = _start(portal)  # a second attempt, left on PayFiP's page (P5)
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
    from famille_plugins.tipi_payment import soap

    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))
    monkeypatch.setattr(soap, "TRANSPORT", lambda url, body, timeout: b"<not-soap/>")
    clock.advance(timedelta(days=2))
    report = services.reconcile(demo)
    assert (report.settled, report.still_pending) == ({}, 1)
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]
