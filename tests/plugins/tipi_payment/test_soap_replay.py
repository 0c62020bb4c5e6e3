"""Recorded SOAP exchanges replayed without any server: the requests the client writes are the
recorded ones, byte for byte, and each recorded answer (success or fault) is read right."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from famille_core import Portal
from famille_core.entities import PaymentTransaction
from famille_plugins.tipi_payment.services import soap
from famille_plugins.tipi_payment.services.providers import payfip_outcome
from famille_plugins.tipi_payment.services.soap import PayfipClient, PayfipFault

RECORDINGS = Path(__file__).parent / "recordings"
IDOP = "6f0c1a5e-3b7d-4c2e-9a41-8d2f0b6e7c13"
CREATE = {
    "exer": "2026",
    "mel": "parent@example.org",
    "montant": "8495",
    "numcli": "021289",
    "objet": "Facture 99996884 Cantine",
    "refdet": "2026CA100002",
    "saisie": "T",
    "urlnotif": "https://portail.example/factures/paiement/1/SECRET/notification",
    "urlredirect": "https://portail.example/factures/paiement/1/SECRET/retour",
}


def replay(name: str, response: str | None = None) -> soap.Transport:
    """A transport that checks the request against the recording and answers the recording."""

    def transport(url: str, body: bytes, timeout: float) -> bytes:
        assert url == "https://www.payfip.gouv.fr/tpa/services/securite"
        assert body == (RECORDINGS / f"{name}.request.xml").read_bytes()
        return (RECORDINGS / f"{response or name}.response.xml").read_bytes()

    return transport


def client(name: str, response: str | None = None) -> PayfipClient:
    return PayfipClient(
        "https://www.payfip.gouv.fr/tpa/services/securite", 5, transport=replay(name, response)
    )


def test_creer_paiement_securise_returns_the_idop() -> None:
    assert client("create_ok").create_payment(CREATE) == IDOP


@pytest.mark.parametrize(
    ("name", "fields", "code", "libelle"),
    [
        (
            "create_R3",
            {**CREATE, "refdet": "2026"},
            "R3",
            "Le format du paramètre REFDET n'est pas conforme",
        ),
        ("create_A2", {**CREATE, "mel": "pas-une-adresse"}, "A2", "Adresse mél incorrecte"),
    ],
)
def test_creation_faults_are_read(
    name: str, fields: dict[str, str], code: str, libelle: str
) -> None:
    with pytest.raises(PayfipFault) as caught:
        client(name).create_payment(fields)
    assert (caught.value.code, caught.value.libelle) == (code, libelle)


def test_details_of_a_paid_operation() -> None:
    details = client("details_paid").payment_details(IDOP)
    assert details["resultrans"] == "P"
    assert details["montant"] == "8495" and details["numcli"] == "021289"
    assert (details["dattrans"], details["heurtrans"], details["numauto"]) == (
        "16112026",
        "0905",
        "123456",
    )


def test_request_names_idop_with_a_capital_o() -> None:
    request = (RECORDINGS / "details_paid.request.xml").read_text()
    assert f"<idOp>{IDOP}</idOp>" in request
    # The recorded lower-case variant is answered P1 by PayFiP (and by the simulator).
    assert "<code>P1</code>" in (RECORDINGS / "details_lowercase_idop_P1.response.xml").read_text()


@pytest.mark.parametrize(("name", "code"), [("details_P5", "P5"), ("details_P1", "P1")])
def test_result_faults_are_read(name: str, code: str) -> None:
    with pytest.raises(PayfipFault) as caught:
        client(name).payment_details(IDOP)
    assert caught.value.code == code


def _transaction() -> PaymentTransaction:
    now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    return PaymentTransaction(
        id=1,
        invoice_id=1,
        family_id=1,
        provider="payfip",
        amount=Decimal("84.95"),
        provider_ref=IDOP,
        created_at=now,
        updated_at=now,
        provider_data={"numcli": "021289", "refdet": "2026CA100002", "exer": "2026", "mode": "T"},
    )


@pytest.mark.parametrize(
    ("response", "state"),
    [
        ("details_paid", "paid"),
        ("details_debit_pretty", "paid"),  # V: direct debit; pretty-printed, other prefixes
        ("details_refused", "refused"),
        ("details_cancelled", "cancelled"),
        ("details_P1", "expired"),
        ("details_P5", None),
    ],
)
def test_provider_verifies_replayed_answers(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, response: str, state: str | None
) -> None:
    monkeypatch.setattr(soap, "TRANSPORT", replay("details_paid", response))
    outcome = payfip_outcome(portal, _transaction(), {"idOp": IDOP})
    assert outcome.state == state
    if state == "paid":
        assert outcome.amount_cents == 8495


def test_replayed_answer_for_another_amount_is_an_anomaly(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(soap, "TRANSPORT", replay("details_paid"))
    transaction = _transaction()
    transaction.amount = Decimal("84.94")
    outcome = payfip_outcome(portal, transaction, {})
    assert outcome.state is None and outcome.data["anomaly"] == "montant"
