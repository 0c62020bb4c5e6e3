"""The payment receipt goes through ``famille_core.notify_family``: into the real inbox when the
inbox plugin is enabled, and nowhere (without error) when it is not."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, Message
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Simulator,
    invoice_by_number,
    path_of,
    start_payment,
)


@pytest.fixture
def extra_plugins() -> list[object]:
    return []  # the real inbox answers post_family_notice


def _pay(demo: Portal, client: FlaskClient, simulator: Simulator) -> str:
    location = start_payment(client, invoice_by_number(demo, DUPONT_OPEN)).headers["Location"]
    back = simulator.choose(location, "payer")
    return client.get(path_of(back), follow_redirects=True).get_data(as_text=True)


def test_receipt_is_a_system_message_in_the_familys_inbox(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    assert "Paiement accepté" in _pay(demo, parent_client, simulator)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    with demo.unit_of_work() as uow:
        (receipt,) = uow.find(Message, subject=f"Paiement reçu — facture n° {DUPONT_OPEN}")
    assert receipt.family_id == invoice.family_id and receipt.is_system
    assert "84,95\u00a0€" in receipt.body and invoice.reference in receipt.body
    inbox = parent_client.get("/messages/", follow_redirects=True).get_data(as_text=True)
    assert f"Paiement reçu — facture n° {DUPONT_OPEN}" in inbox


class TestWithoutInbox:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        plugins = ["profile", "calendar", "billing", "tipi_payment"]
        return {**settings_data, "portal": {**settings_data["portal"], "plugins": plugins}}

    def test_payment_is_credited_and_nothing_is_posted(
        self, demo: Portal, parent_client: FlaskClient, simulator: Simulator
    ) -> None:
        assert "Paiement accepté" in _pay(demo, parent_client, simulator)
        assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.PAID
        with demo.unit_of_work() as uow:
            assert uow.count(Message) == 0
