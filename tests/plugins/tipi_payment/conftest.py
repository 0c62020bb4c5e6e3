"""Fixtures of the tipi_payment tests: the demo invoices and the PayFiP simulator wired
in-process (SOAP calls and notifications go through WSGI test clients, no socket)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.test import Client

from famille_core import FixedClock
from famille_core.entities import PaymentTransaction
from famille_plugins.tipi_payment.services import soap
from famille_plugins.tipi_payment.services.simulator import PayfipSimulator
from tests.plugins.billing.conftest import (  # noqa: F401  (shared with the billing tests)
    DUPONT_OPEN,
    MARTIN_OPEN,
    Recorder,
    extra_plugins,
    invoice_by_number,
    path_of,
    recorder,
    start_payment,
    transactions,
)


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
