"""The payment hooks, as the core and the host call them (``portal.hook``) with the bundled
plugins enabled: a provider answers only for its own transactions, the first answer wins, every
plugin offers its ways to pay and hears of a payment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from famille_core import Portal, hookimpl
from famille_core.entities import Actor, Invoice, InvoiceStatus, PaymentTransaction, Role
from famille_core.errors import ValidationFailed
from famille_core.hooks.results import (
    PaymentMethod,
    PaymentOutcome,
    PaymentRedirect,
    RenderedDocument,
)
from famille_core.services.payments.starting import start_payment
from host_flask import create_app
from tests.hooks.conftest import plugged
from tests.plugins.calendar.conftest import Demo


class Desk:
    """A provider of its own: the town hall's desk (« guichet »)."""

    def __init__(self, code: str = "guichet") -> None:
        self.code = code
        self.heard: list[tuple[str, str]] = []

    @hookimpl
    def payment_methods(self) -> list[PaymentMethod]:
        return [PaymentMethod(code=self.code, label=f"Payer au {self.code}")]

    @hookimpl
    def payment_link(self, transaction: PaymentTransaction) -> PaymentRedirect | None:
        if transaction.provider != self.code:
            return None
        return PaymentRedirect(url=f"/{self.code}/{transaction.id}")

    @hookimpl
    def payment_response(
        self, transaction: PaymentTransaction, data: dict[str, str]
    ) -> PaymentOutcome | None:
        if transaction.provider != self.code:
            return None
        return PaymentOutcome(provider_ref=None, transaction_id=transaction.id, state="paid")

    @hookimpl
    def on_payment(self, invoice: Invoice, transaction: PaymentTransaction) -> None:
        self.heard.append((invoice.number, str(transaction.state)))

    @hookimpl
    def render_invoice(self, invoice: Invoice, format: str) -> RenderedDocument | None:
        if format != "txt":
            return None
        return RenderedDocument(content=invoice.number.encode(), media_type="text/plain", filename="f.txt")


def _invoice(portal: Portal, family_id: int) -> Invoice:
    with portal.unit_of_work() as uow:
        invoice = uow.first(Invoice, family_id=family_id)
        assert invoice is not None
        return invoice


def _transaction(portal: Portal, invoice: Invoice, provider: str) -> PaymentTransaction:
    now = portal.clock.now()
    return PaymentTransaction(
        id=1_000_001, invoice_id=invoice.id or 0, family_id=invoice.family_id, provider=provider,
        amount=invoice.balance, created_at=now, updated_at=now,
    )  # fmt: skip


def test_render_invoice_first_answer_wins_each_format_to_whoever_handles_it(cal: Demo) -> None:
    invoice = _invoice(cal.portal, cal.family_id)
    app = create_app({"TESTING": True}, portal=cal.portal)  # documents are rendered in the host
    with plugged(cal.portal, Desk()), app.app_context():
        text = cal.portal.hook.render_invoice(portal=cal.portal, invoice=invoice, format="txt")
        html = cal.portal.hook.render_invoice(portal=cal.portal, invoice=invoice, format="html")
        unknown = cal.portal.hook.render_invoice(portal=cal.portal, invoice=invoice, format="xml")
    assert text.content == invoice.number.encode()
    assert html.media_type.startswith("text/html") and invoice.number in html.content.decode()
    assert unknown is None


def test_payment_methods_collected_every_providers_ways_latest_registered_first(cal: Demo) -> None:
    invoice = _invoice(cal.portal, cal.family_id)
    parent = Actor(user_id=None, role=Role.PARENT, family_id=cal.family_id)

    def codes() -> list[str]:
        answers = cal.portal.hook.payment_methods(portal=cal.portal, invoice=invoice, actor=parent)
        return [method.code for methods in answers for method in methods]

    bundled = codes()
    with plugged(cal.portal, Desk("guichet"), Desk("cheque")):
        assert codes() == ["cheque", "guichet", *bundled]


def test_payment_link_first_answer_wins_a_provider_answers_for_its_own_transactions(
    cal: Demo,
) -> None:
    invoice = _invoice(cal.portal, cal.family_id)

    def link(provider: str) -> Any:
        return cal.portal.hook.payment_link(
            portal=cal.portal,
            invoice=invoice,
            transaction=_transaction(cal.portal, invoice, provider),
            return_url="/retour",
            notify_url="/notification",
        )

    with plugged(cal.portal, Desk("guichet"), Desk("cheque")):
        assert link("guichet").url == "/guichet/1000001"  # asked after « cheque », which passed
        assert link("cheque").url == "/cheque/1000001"
        assert link("inconnu") is None  # no bundled provider claims another's transaction


def test_payment_response_first_answer_wins_a_provider_answers_for_its_own_transactions(
    cal: Demo,
) -> None:
    invoice = _invoice(cal.portal, cal.family_id)

    def answer(provider: str) -> Any:
        transaction = _transaction(cal.portal, invoice, provider)
        return cal.portal.hook.payment_response(
            portal=cal.portal, transaction=transaction, data={"status": "paid"}
        )

    with plugged(cal.portal, Desk("guichet"), Desk("cheque")):
        assert answer("guichet").state == "paid"
        assert answer("inconnu") is None  # data alone proves nothing: nobody answers


def test_on_payment_notification_every_plugin_hears(cal: Demo) -> None:
    invoice = _invoice(cal.portal, cal.family_id)
    first, second = Desk("guichet"), Desk("cheque")
    paid = _transaction(cal.portal, invoice, "guichet")
    with plugged(cal.portal, first, second):
        result = cal.portal.hook.on_payment(portal=cal.portal, invoice=invoice, transaction=paid)
    assert first.heard == second.heard == [(invoice.number, "pending")]
    assert all(answer is None for answer in result)


class Till:
    """A provider that keeps its own fields with the transaction, or refuses the payment."""

    def __init__(self, code: str, refuse: bool = False) -> None:
        self.code, self.refuse = code, refuse

    @hookimpl
    def payment_data(self, invoice: Invoice, provider: str) -> dict[str, Any] | None:
        if provider != self.code:
            return None
        if self.refuse:
            raise ValidationFailed.single("till_closed", "La caisse est fermée.")
        return {"caisse": "2", "facture": invoice.number}

    @hookimpl
    def payment_link(self, transaction: PaymentTransaction) -> PaymentRedirect | None:
        if transaction.provider != self.code:
            return None
        return PaymentRedirect(url=f"/{self.code}/{transaction.id}")


def test_payment_data_first_answer_kept_with_the_transaction_a_refusal_stores_nothing(
    cal: Demo,
) -> None:
    with cal.portal.unit_of_work() as uow:
        invoice = uow.first(Invoice, family_id=cal.family_id, status=InvoiceStatus.OPEN)
        assert invoice is not None and invoice.id is not None
    parent = Actor(user_id=None, role=Role.PARENT, family_id=cal.family_id)

    def start(provider: str) -> Any:
        return start_payment(
            cal.portal, parent, invoice.id or 0, provider, lambda tid: (f"/r/{tid}", f"/n/{tid}"),
            offered=lambda _invoice: {"caisse", "fermee"}, expiry=timedelta(minutes=120),
        )  # fmt: skip

    def stored() -> list[PaymentTransaction]:
        with cal.portal.unit_of_work() as uow:
            return uow.find(PaymentTransaction, invoice_id=invoice.id)

    with plugged(cal.portal, Till("caisse"), Till("fermee", refuse=True)):
        with pytest.raises(ValidationFailed) as refused:
            start("fermee")
        assert refused.value.issues[0].code == "till_closed"
        assert stored() == []  # refused before anything was stored
        start("caisse")  # « fermee » answers None for another provider's code
    (transaction,) = stored()
    assert transaction.provider == "caisse"
    assert transaction.provider_data["caisse"] == "2"
    assert transaction.provider_data["facture"] == invoice.number
