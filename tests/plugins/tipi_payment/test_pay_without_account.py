"""« Payer une facture sans compte » (issue 18, point 1; docs/payment.md): a payer without an
account finds an invoice by its reference and its amount (or the family number), sees only the
amount, the due date and the number, and pays it through the same PayFiP flow and the same
verified, idempotent crediting as a logged-in parent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from tests.conftest import csrf_token, login
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    Recorder,
    Simulator,
    answer_urls,
    invoice_by_number,
    path_of,
    transactions,
)
from tests.plugins.tipi_payment.test_one_payment_in_flight import _in_parallel

FORM = "/factures/sans-compte"
FOUND = "/factures/sans-compte/facture"
NOT_FOUND = "Aucune facture à régler ne correspond à cette référence"


def _search(client: FlaskClient, reference: str, proof: str, address: str = "203.0.113.7") -> Any:
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client, FORM)
    return client.post(
        FORM,
        data={
            "reference": reference,
            "proof": proof,
            "email": "mamie@example.org",
            "csrf_token": token,
        },
    )


def _reference(portal: Portal, number: str = DUPONT_OPEN) -> str:
    return invoice_by_number(portal, number).reference


def _pay_button(client: FlaskClient) -> Any:
    token = csrf_token(client, FOUND)
    return client.post(FOUND, data={"method": "payfip", "csrf_token": token})


def test_login_page_links_to_the_public_page(client: FlaskClient) -> None:
    page = client.get("/connexion").get_data(as_text=True)
    assert f'href="{FORM}">Payer une facture sans compte</a>' in page
    assert "<h1>Payer une facture sans compte</h1>" in client.get(FORM).get_data(as_text=True)


@pytest.mark.parametrize("proof", ["84,95", "84.95 €", " 84,95 ", "family"])
def test_reference_and_amount_or_family_number_show_only_amount_due_date_and_number(
    demo: Portal, client: FlaskClient, proof: str
) -> None:
    if proof == "family":
        from famille_core.demo import HOUSEHOLDS

        proof = HOUSEHOLDS["DUPONT"]
    reference = _reference(demo).lower()  # typed in lower case
    response = _search(client, reference, proof)
    assert response.status_code == 303 and response.headers["Location"].endswith(FOUND)
    page = client.get(FOUND).get_data(as_text=True)
    assert "Facture n° 99996884 à régler" in page
    assert "84,95" in page and "021289" in page
    for private in ("DUPONT", "Marie", "Lucas", "Cantine", "rue", "parent@example.org"):
        assert private not in page
    assert "Payer en ligne" in page


def test_unknown_reference_wrong_amount_and_paid_invoice_get_the_same_answer(
    demo: Portal, app: Flask
) -> None:
    answers = []
    for reference, proof in [
        ("2026-ZZ-99-9999", "84,95"),  # unknown reference
        (_reference(demo), "84,94"),  # wrong amount
        (_reference(demo), "pas un montant"),  # neither an amount nor the family number
        (_reference(demo, "99996883"), "62,25"),  # DUPONT's paid invoice, its right amount
    ]:
        response = _search(app.test_client(), reference, proof)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        answers.append(re.sub(r'name="csrf_token" value="[^"]+"|value="[^"]*"', "", page))
    assert NOT_FOUND in answers[0]
    assert len(set(answers)) == 1  # nothing says which was wrong
    assert transactions(demo) == []


def test_eleventh_try_in_an_hour_from_one_address_is_refused(
    demo: Portal, client: FlaskClient
) -> None:
    for attempt in range(10):
        assert _search(client, f"2026-ZZ-99-{attempt:04d}", "1").status_code == 422
    # The 11th, even with the right reference and amount: refused before anything is looked up.
    assert _search(client, _reference(demo), "84,95").status_code == 429
    # Another address is not held back by these.
    assert _search(client, _reference(demo), "84,95", address="198.51.100.2").status_code == 303


def test_tries_on_one_reference_are_limited_whatever_the_address(demo: Portal, app: Flask) -> None:
    for attempt in range(10):
        wrong = _search(app.test_client(), _reference(demo), f"{attempt},01", f"192.0.2.{attempt}")
        assert wrong.status_code == 422
    assert _search(app.test_client(), _reference(demo), "84,95", "192.0.2.99").status_code == 429


def test_form_errors_are_french_and_change_nothing(demo: Portal, client: FlaskClient) -> None:
    token = csrf_token(client, FORM)
    response = client.post(
        FORM, data={"reference": "", "proof": "", "email": "x", "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Référence : indiquez la référence" in page
    assert "Adresse e-mail : indiquez votre adresse" in page
    assert transactions(demo) == []


def test_anonymous_payer_pays_and_the_family_gets_the_receipt(
    demo: Portal,
    app: Flask,
    client: FlaskClient,
    simulator: Simulator,
    recorder: Recorder,
) -> None:
    assert _search(client, _reference(demo), "84,95").status_code == 303
    to_payfip = _pay_button(client)
    assert to_payfip.status_code == 303
    (transaction,) = transactions(demo)
    assert transaction.provider_data["mel"] == "mamie@example.org"  # DGFiP's ticket goes there
    assert transaction.provider_data["without_account"] is True
    back = simulator.choose(to_payfip.headers["Location"], "payer")
    receipt = client.get(path_of(back), follow_redirects=True)
    page = receipt.get_data(as_text=True)
    assert "Paiement accepté" in page and "payée" in page and "84,95" in page
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.status is InvoiceStatus.PAID and invoice.paid_amount == invoice.total
    assert [notice.subject for notice in recorder.notices] == [
        "Paiement reçu — facture n° 99996884"
    ]
    # The parent logs in and sees the invoice paid.
    parent = app.test_client()
    login(parent, "parent@example.org", "parent-demo-password")
    assert "payée" in parent.get(f"/factures/{invoice.id}").get_data(as_text=True)
    # A paid invoice offers no payment any more, by reference either.
    assert _search(app.test_client(), _reference(demo), "84,95").status_code == 422


def test_receipt_is_shown_only_in_the_browser_that_paid(
    demo: Portal, app: Flask, client: FlaskClient, simulator: Simulator
) -> None:
    _search(client, _reference(demo), "84,95")
    simulator.choose(_pay_button(client).headers["Location"], "payer")
    (transaction,) = transactions(demo)
    assert client.get(f"/factures/sans-compte/paiement/{transaction.id}").status_code == 200
    assert (
        app.test_client().get(f"/factures/sans-compte/paiement/{transaction.id}").status_code == 404
    )


def test_a_logged_in_payment_has_no_anonymous_receipt(
    demo: Portal, parent_client: FlaskClient, simulator: Simulator
) -> None:
    from tests.plugins.tipi_payment.conftest import start_payment

    start_payment(parent_client, invoice_by_number(demo, DUPONT_OPEN))
    (transaction,) = transactions(demo)
    with parent_client.session_transaction() as session:
        session["paid_without_account"] = [transaction.id]  # even forged into the session
    response = parent_client.get(f"/factures/sans-compte/paiement/{transaction.id}")
    assert response.status_code == 404


def test_second_payer_is_refused_while_the_first_payment_is_in_flight(
    demo: Portal, app: Flask, simulator: Simulator
) -> None:
    first, second = app.test_client(), app.test_client()
    _search(first, _reference(demo), "84,95")
    _search(second, _reference(demo), "84,95", address="198.51.100.9")
    assert _pay_button(first).status_code == 303
    refused = _pay_button(second)
    assert refused.headers["Location"].endswith(FOUND)  # not sent to PayFiP
    page = second.get(FOUND).get_data(as_text=True)
    assert "déjà en cours" in page
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]
    assert simulator.app.soap_calls.count("creerPaiementSecurise") == 1


def test_back_button_in_the_paying_browser_continues_the_same_payment(
    demo: Portal, client: FlaskClient, simulator: Simulator
) -> None:
    _search(client, _reference(demo), "84,95")
    first = _pay_button(client).headers["Location"]
    assert _pay_button(client).headers["Location"] == first  # the same idOp, not a second one
    assert simulator.app.soap_calls.count("creerPaiementSecurise") == 1
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]


def test_replayed_return_and_notification_credit_once(
    demo: Portal, client: FlaskClient, simulator: Simulator
) -> None:
    _search(client, _reference(demo), "84,95")
    back = simulator.choose(_pay_button(client).headers["Location"], "payer")
    (transaction,) = transactions(demo)
    _return, notify = answer_urls(simulator, transaction)
    for _ in range(3):
        client.get(path_of(back))
        client.post(notify, data={"idOp": transaction.provider_ref})
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.paid_amount == invoice.total


@pytest.mark.postgres
def test_two_anonymous_payers_at_the_same_instant_never_pay_twice(
    demo: Portal, app: Flask, simulator: Simulator
) -> None:
    payers = [app.test_client() for _ in range(2)]
    tokens = []
    for number, payer in enumerate(payers):
        _search(payer, _reference(demo), "84,95", address=f"198.51.100.{number + 20}")
        tokens.append(csrf_token(payer, FOUND))
    locations = _in_parallel(
        [
            lambda payer=payer, token=token: payer.post(
                FOUND, data={"method": "payfip", "csrf_token": token}
            ).headers["Location"]
            for payer, token in zip(payers, tokens, strict=True)
        ]
    )
    assert [t.state for t in transactions(demo)] == [PaymentState.PENDING]
    assert simulator.app.soap_calls.count("creerPaiementSecurise") == 1
    assert sum("/tpa/paiementws.web" in location for location in locations) == 1


def test_a_reference_longer_than_any_invoice_is_refused_in_french_before_it_is_counted(
    demo: Portal, client: FlaskClient
) -> None:
    """A 100,000-character "reference" never becomes an attempt counter's key: a French message
    on the field, and the next ten real tries from that address are still allowed."""
    response = _search(client, "X" * 100_000, "84,95")
    assert response.status_code == 422
    assert "Référence : 40 caractères au plus." in response.get_data(as_text=True)
    for attempt in range(10):
        assert _search(client, f"2026-ZZ-99-{attempt:04d}", "1").status_code == 422
    assert _search(client, _reference(demo), "84,95").status_code == 429
