"""Attacks and faults (issue 6): each credits nothing, says why in a log line without personal
data, and leaves the transaction pending where the outcome is unknown."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from famille_plugins.tipi_payment.services import soap
from famille_plugins.tipi_payment.services.soap import PayfipClient, PayfipUnavailable
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    MARTIN_OPEN,
    Simulator,
    answer_urls,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)

PERSONAL = ("parent@example.org", "DUPONT", "Marie", "694504900001")


def _started(demo: Portal, client: FlaskClient, number: str = DUPONT_OPEN) -> Any:
    location = start_payment(client, invoice_by_number(demo, number)).headers["Location"]
    (transaction,) = [t for t in transactions(demo) if location.endswith(t.provider_ref or "-")]
    return location, transaction


def _assert_nothing_credited(demo: Portal, state: PaymentState = PaymentState.PENDING) -> None:
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.status is InvoiceStatus.OPEN and invoice.paid_amount == 0
    assert [t.state for t in transactions(demo) if t.invoice_id == invoice.id] == [state]


def _assert_clean_log(caplog: pytest.LogCaptureFixture, expected: str) -> None:
    assert expected in caplog.text
    for value in PERSONAL:
        assert value not in caplog.text


def test_forged_return_with_resultrans_p_credits_nothing(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    _location, transaction = _started(demo, parent_client)
    back, _notify = answer_urls(simulator, transaction)
    forged = f"{back}?resultrans=P&montant=8495&numauto=123456&refdet={transaction.provider_data['refdet']}"
    page = parent_client.get(forged, follow_redirects=True).get_data(as_text=True)
    # PayFiP, asked on the server, says the payment is still in progress (P5).
    assert "Paiement en cours de vérification" in page
    _assert_nothing_credited(demo)
    assert simulator.app.soap_calls[-1] == "recupererDetailPaiementSecurise"


def test_answer_urls_carry_no_secret_and_an_answer_only_makes_the_portal_ask_payfip(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/security.md point 37: an access log records these URLs; they hold nothing usable."""
    location, transaction = _started(demo, parent_client)
    back, notify = answer_urls(simulator, transaction)
    assert back == f"/factures/paiement/{transaction.id}/retour"
    assert notify == f"/factures/paiement/{transaction.id}/notification"
    # Anyone may post to it: PayFiP is asked about the stored idOp, which is still P5.
    calls = len(simulator.app.soap_calls)
    forged = {"idOp": transaction.provider_ref, "resultrans": "P", "numauto": "123456"}
    assert parent_client.post(notify, data=forged).status_code == 200
    assert simulator.app.soap_calls[calls:] == ["recupererDetailPaiementSecurise"]
    _assert_nothing_credited(demo)
    # A URL given before this version (a secret in its path): the segment is ignored.
    simulator.choose(location, "payer", lose_notification=True)
    old = f"/factures/paiement/{transaction.id}/un-ancien-secret/notification"
    assert parent_client.post(old, data={"idOp": transaction.provider_ref}).status_code == 200
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.PAID
    # An unknown transaction: 404 and a log line, nothing asked.
    calls = len(simulator.app.soap_calls)
    with caplog.at_level(logging.INFO):
        assert parent_client.post("/factures/paiement/999999/notification").status_code == 404
    assert len(simulator.app.soap_calls) == calls
    _assert_clean_log(caplog, "payment answer refused: unknown transaction")


def _paid_with_answer_field(
    demo: Portal, client: FlaskClient, sim: Simulator, field: str, value: str
) -> Any:
    """Pay, PayFiP's verified answer carrying ``field=value``; return the transaction."""
    location, transaction = _started(demo, client)
    sim.app.operations[transaction.provider_ref or ""].fields[field] = value
    client.get(path_of(sim.choose(location, "payer")))
    return transaction


def test_wrong_amount_in_payfip_answer_credits_nothing(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    _paid_with_answer_field(demo, parent_client, simulator, "montant", "100")
    _assert_nothing_credited(demo)
    _assert_clean_log(caplog, "fields do not match the transaction: montant")


def test_unknown_refdet_in_payfip_answer_credits_nothing(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    _paid_with_answer_field(demo, parent_client, simulator, "refdet", "2099ZZ99ZZZZ")
    _assert_nothing_credited(demo)
    _assert_clean_log(caplog, "fields do not match the transaction: refdet")


def test_notification_naming_another_familys_operation_credits_only_what_payfip_says(
    demo: Portal,
    app: Any,
    parent_client: FlaskClient,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.conftest import login

    martin = app.test_client()
    login(martin, "martin@example.org", "martin-demo-password")
    martin_location, martin_tx = _started(demo, martin, MARTIN_OPEN)
    simulator.choose(martin_location, "payer", lose_notification=True)  # MARTIN paid
    _location, dupont_tx = _started(demo, parent_client)
    _back, dupont_notify = answer_urls(simulator, dupont_tx)
    # DUPONT's notification URL, carrying MARTIN's paid idOp: PayFiP is asked about DUPONT's own.
    parent_client.post(dupont_notify, data={"idOp": martin_tx.provider_ref})
    _assert_nothing_credited(demo)
    assert invoice_by_number(demo, MARTIN_OPEN).paid_amount == 0  # credited only by its own URL
    assert "payment answer names another idOp" in caplog.text


def test_replayed_notification_credits_once(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    location, transaction = _started(demo, parent_client)
    simulator.choose(location, "payer")
    _back, notify = answer_urls(simulator, transaction)
    calls = len(simulator.app.soap_calls)
    for _ in range(3):
        assert (
            parent_client.post(notify, data={"idOp": transaction.provider_ref}).status_code == 200
        )
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.paid_amount == invoice.total and invoice.status is InvoiceStatus.PAID
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert len(simulator.app.soap_calls) == calls  # a settled transaction is not re-queried


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"tipi_payment": {"mode": "production"}}}


def test_test_mode_answer_in_production_mode_credits_nothing(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    transaction = _paid_with_answer_field(demo, parent_client, simulator, "saisie", "T")
    assert transaction.provider_data["mode"] == "W"
    _assert_nothing_credited(demo)
    _assert_clean_log(caplog, "fields do not match the transaction: saisie")


def test_soap_timeout_on_verification_leaves_pending(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    location, _transaction = _started(demo, parent_client)
    back = simulator.choose(location, "payer", lose_notification=True)

    def timeout(url: str, body: bytes, seconds: float) -> bytes:
        raise PayfipUnavailable("TimeoutError")

    monkeypatch.setattr(soap, "TRANSPORT", timeout)
    page = parent_client.get(path_of(back), follow_redirects=True).get_data(as_text=True)
    assert "Paiement en cours de vérification" in page
    _assert_nothing_credited(demo)
    _assert_clean_log(caplog, "PayFiP verification failed: no answer (TimeoutError)")


def test_soap_timeout_at_creation_tells_payer_and_lets_them_retry(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def timeout(url: str, body: bytes, seconds: float) -> bytes:
        raise PayfipUnavailable("TimeoutError")

    working = soap.TRANSPORT
    monkeypatch.setattr(soap, "TRANSPORT", timeout)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    response = start_payment(parent_client, invoice)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/factures/{invoice.id}"
    )
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "Le service de paiement ne répond pas. Rien n&#39;a été débité" in page
    # Nobody was sent to pay that attempt: it is expired (a late answer would still count),
    # and does not hold the invoice "in flight".
    _assert_nothing_credited(demo, PaymentState.EXPIRED)
    assert "Payer en ligne" in page
    monkeypatch.setattr(soap, "TRANSPORT", working)
    retry = start_payment(parent_client, invoice)
    assert "/tpa/paiementws.web?idop=" in retry.headers["Location"]


def test_malformed_xml_leaves_pending_with_clear_log_line(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    location, _transaction = _started(demo, parent_client)
    back = simulator.choose(location, "payer", lose_notification=True)
    for body in (b"<html><body>Service indisponible</body></html>", b"<soap:Envelope", b""):
        monkeypatch.setattr(soap, "TRANSPORT", lambda url, request, seconds, body=body: body)
        parent_client.get(path_of(back))
    _assert_nothing_credited(demo)
    _assert_clean_log(caplog, "PayFiP verification failed: malformed answer")


def test_xml_bombs_are_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    )
    with pytest.raises(soap.PayfipMalformed):
        soap.parse_answer(bomb, "recupererDetailPaiementSecurise")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/tpa/services/securite"
    for connection in accepted:
        connection.close()
    server.close()


def test_real_http_transport_times_out_as_unavailable(silent_server: str) -> None:
    client = PayfipClient(silent_server, timeout=0.3, transport=soap.http_transport)
    with pytest.raises(PayfipUnavailable):
        client.payment_details("00000000-0000-0000-0000-000000000000")


def test_p1_unknown_operation_expires_the_transaction(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    _location, transaction = _started(demo, parent_client)
    back, _notify = answer_urls(simulator, transaction)
    simulator.app.purge()  # the nightly purge: the idOp is now unknown (P1)
    page = parent_client.get(back, follow_redirects=True).get_data(as_text=True)
    assert "Paiement expiré" in page
    _assert_nothing_credited(demo, PaymentState.EXPIRED)


def test_p5_result_not_known_yet_keeps_pending(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    _location, transaction = _started(demo, parent_client)
    back, _notify = answer_urls(simulator, transaction)
    page = parent_client.get(back, follow_redirects=True).get_data(as_text=True)
    assert "Paiement en cours de vérification" in page
    _assert_nothing_credited(demo)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference", "2018", "La référence de cette facture ne peut pas être payée en ligne"),
        ("email", "x@y", "Votre adresse e-mail ne peut pas être transmise"),
    ],
)
def test_fields_payfip_would_refuse_are_refused_before_storing(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    field: str,
    value: str,
    message: str,
) -> None:
    from famille_core.entities import Invoice, User

    with demo.unit_of_work() as uow:
        if field == "reference":
            target = uow.first(Invoice, number=DUPONT_OPEN)
        else:
            target = uow.first(User, email="parent@example.org")
        setattr(target, field, value)
        uow.commit()
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    start_payment(parent_client, invoice)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert message.replace("'", "&#39;") in page
    assert transactions(demo) == []
    assert simulator.app.soap_calls == []


@pytest.mark.parametrize(
    ("fault", "tamper", "message"),
    [
        (
            "R3",
            {"refdet": "ABC"},
            "La référence de la facture est refusée par le service de paiement.",
        ),
        (
            "A2",
            {"mel": "pas-une-adresse"},
            "Votre adresse e-mail est refusée par le service de paiement",
        ),
    ],
)
def test_r3_and_a2_faults_at_creation_are_explained_and_expire_the_attempt(
    demo: Portal,
    parent_client: FlaskClient,
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    tamper: dict[str, str],
    message: str,
) -> None:
    from famille_plugins.tipi_payment.services import providers

    original = providers.common_fields
    monkeypatch.setattr(providers, "common_fields", lambda *args: {**original(*args), **tamper})
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    start_payment(parent_client, invoice)
    page = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert message in page.replace("&#34;", '"').replace("&#39;", "'")
    _assert_nothing_credited(demo, PaymentState.EXPIRED)


def test_notification_by_get_is_refused(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    location, transaction = _started(demo, parent_client)
    simulator.choose(location, "payer", lose_notification=True)
    _back, notify = answer_urls(simulator, transaction)
    assert parent_client.get(f"{notify}?idOp={transaction.provider_ref}").status_code == 405
    _assert_nothing_credited(demo)
