"""Fixtures of the billing tests: the demo invoices, a stand-in for the inbox that records the
notices and the payments, and the parent's "Payer en ligne"."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from famille_core import Portal, hookimpl
from famille_core.entities import Invoice, PaymentTransaction
from famille_core.hooks.results import FamilyNotice
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


def start_payment(client: FlaskClient, invoice: Invoice, method: str = "payfip") -> Any:
    """Press "Payer en ligne" on the invoice page."""
    token = csrf_token(client, f"/factures/{invoice.id}")
    return client.post(
        f"/factures/{invoice.id}/payer", data={"method": method, "csrf_token": token}
    )
