"""Fixtures of the tipi_payment tests: the demo invoices and the PayFiP simulator wired
in-process (SOAP calls and notifications go through WSGI test clients, no socket)."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import Client

from famille_core import FixedClock, Portal, hookimpl
from famille_core.entities import Invoice, PaymentTransaction
from famille_core.hooks.results import FamilyNotice
from famille_plugins.tipi_payment import soap
from famille_plugins.tipi_payment.simulator import PayfipSimulator
from tests.conftest import csrf_token

DUPONT_OPEN = "99996884"
"""The DUPONT family's unpaid demo invoice (84,95 €)."""
MARTIN_OPEN = "99996885"


class Recorder:
    """A test plugin standing in for the inbox: records the notices posted through
    ``notify_family`` and the ``on_payment`` calls (thread-safe)."""

    def __init__(self) -> None:
        self.notices: list[FamilyNotice] = []
        self.payments: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @hookimpl
    def post_family_notice(self, portal, uow, notice):  # type: ignore[no-untyped-def]
        with self._lock:
            self.notices.append(notice)
            return len(self.notices)

    @hookimpl
    def on_payment(self, portal, invoice, transaction):  # type: ignore[no-untyped-def]
        with self._lock:
            self.payments.append((invoice.number, transaction.state.value))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def extra_plugins(recorder: Recorder) -> list[object]:
    return [recorder]


def path_of(url: str) -> str:
    """``/path?query`` of an absolute URL (test clients take paths)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def invoice_by_number(portal: Portal, number: str) -> Invoice:
    with portal.unit_of_work() as uow:
        invoice = uow.first(Invoice, number=number)
        assert invoice is not None
        return invoice


def transactions(portal: Portal) -> list[PaymentTransaction]:
    with portal.unit_of_work() as uow:
        return uow.find(PaymentTransaction, order_by=("id",))


class Simulator:
    """The simulator app and a client to browse it as the payer's browser would."""

    def __init__(self, app: PayfipSimulator) -> None:
        self.app = app
        self.browser = Client(app)

    def choose(
        self, payment_url: str, choice: str = "payer", *, lose_notification: bool = False
    ) -> str:
        """Open the payment page, press a button; return the way back to the portal."""
        page = self.browser.get(path_of(payment_url))
        assert page.status_code == 200, page.get_data(as_text=True)
        idop = re.search(r'name="idop" value="([^"]+)"', page.get_data(as_text=True))
        assert idop
        data = {"idop": idop.group(1), "choix": choice}
        if lose_notification:
            data["perdre"] = "1"
        answer = self.browser.post("/tpa/paiementws.web", data=data).get_data(as_text=True)
        back = re.search(r'<a href="([^"]+)">Retourner', answer)
        assert back, answer
        return html.unescape(back.group(1))

    def legacy_answer(self, redirect_url: str, choice: str = "payer") -> tuple[str, dict[str, str]]:
        """Open the legacy ``paiement.web`` page, press a button; return where the answer is
        posted (``urlcl``) and its fields."""
        page = self.browser.get(path_of(redirect_url))
        assert page.status_code == 200, page.get_data(as_text=True)
        operation = re.search(r'name="operation" value="([^"]+)"', page.get_data(as_text=True))
        assert operation
        answer = self.browser.post(
            "/tpa/paiement.web", data={"operation": operation.group(1), "choix": choice}
        ).get_data(as_text=True)
        action = re.search(r'<form method="post" action="([^"]+)"', answer)
        assert action, answer
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', answer))
        return path_of(html.unescape(action.group(1))), {
            k: html.unescape(v) for k, v in fields.items()
        }


@pytest.fixture
def simulator(
    app: Flask, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Simulator]:
    """The PayFiP simulator, reached by the plugin's SOAP client and notifying the portal."""
    server_side = app.test_client()
    notifications: list[int] = []

    def notify(url: str, data: Any) -> None:
        notifications.append(server_side.post(path_of(url), data=dict(data)).status_code)

    sim = PayfipSimulator(notify=notify, now=clock.now)

    def transport(url: str, body: bytes, timeout: float) -> bytes:
        assert urlsplit(url).path == "/tpa/services/securite"
        response = Client(sim).post(
            "/tpa/services/securite", data=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        return response.get_data()

    monkeypatch.setattr(soap, "TRANSPORT", transport)
    wrapper = Simulator(sim)
    wrapper.notifications = notifications  # type: ignore[attr-defined]
    yield wrapper


def answer_urls(sim: Simulator, transaction: PaymentTransaction) -> tuple[str, str]:
    """The (return, notification) paths PayFiP was given for ``transaction``."""
    fields = sim.app.operations[transaction.provider_ref or ""].fields
    return path_of(fields["urlredirect"]), path_of(fields["urlnotif"])


def start_payment(client: FlaskClient, invoice: Invoice, method: str = "payfip") -> Any:
    """Press "Payer en ligne" on the invoice page."""
    token = csrf_token(client, f"/factures/{invoice.id}")
    return client.post(
        f"/factures/{invoice.id}/payer", data={"method": method, "csrf_token": token}
    )
