"""The legacy TIPI ``paiement.web`` redirect, chosen by configuration: its answer comes through
the payer's browser and nothing signs it, so it never credits anything by itself (issue 12,
finding 2; docs/security.md point 34). A "paid" answer whose fields all match the stored
transaction is kept "à vérifier" for an agent, who confirms it against the régie's statement
(paid) or rejects it (refused); refusals and cancellations credit nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import AuditRecord, InvoiceStatus, PaymentState
from famille_plugins.billing.services import payments as services
from tests.conftest import csrf_token, login
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    MARTIN_OPEN,
    Recorder,
    Simulator,
    invoice_by_number,
    path_of,
    start_payment,
    transactions,
)


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"tipi_payment": {"providers": ["tipi"]}}}


def _redirect(demo: Portal, client: FlaskClient) -> str:
    response = start_payment(client, invoice_by_number(demo, DUPONT_OPEN), method="tipi")
    assert response.status_code == 303
    return str(response.headers["Location"])


def _state(demo: Portal) -> tuple[InvoiceStatus, list[PaymentState]]:
    return invoice_by_number(demo, DUPONT_OPEN).status, [t.state for t in transactions(demo)]


def test_redirect_carries_every_field_formatted(demo: Portal, parent_client: FlaskClient) -> None:
    location = _redirect(demo, parent_client)
    parts = urlsplit(location)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://www.payfip.gouv.fr/tpa/paiement.web"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert query["numcli"] == "021289"
    assert query["exer"] == str(invoice.issue_date.year)
    assert query["refdet"] == invoice.reference.replace("-", "")
    assert query["montant"] == "8495"
    assert query["mel"] == "parent@example.org"
    assert query["objet"] == f"Facture {DUPONT_OPEN} Cantine"
    assert query["saisie"] == "T"
    (transaction,) = transactions(demo)
    assert query["urlcl"] == f"http://127.0.0.1:5000/factures/paiement/{transaction.id}/retour"
    assert transaction.state is PaymentState.PENDING and transaction.provider == "tipi"


def _review(demo: Portal) -> dict[str, str]:
    (transaction,) = transactions(demo)
    assert transaction.state is PaymentState.PENDING
    return dict(transaction.provider_data.get("review") or {})


def test_paid_answer_waits_for_an_agent_who_confirms_it_once(
    demo: Portal,
    clock: FixedClock,
    app: Flask,
    parent_client: FlaskClient,
    agent_client: FlaskClient,
    simulator: Simulator,
    recorder: Recorder,
) -> None:
    urlcl, answer = simulator.legacy_answer(_redirect(demo, parent_client), "payer")
    assert (
        answer["resultrans"] == "P"
        and len(answer["dattrans"]) == 8
        and len(answer["heurtrans"]) == 4
    )
    # The answer is form-posted from PayFiP's site: no session cookie comes with it.
    anonymous = app.test_client()
    response = anonymous.post(urlcl, data=answer)
    assert response.status_code == 303
    assert anonymous.post(urlcl, data=answer).status_code == 303  # replayed: no effect
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert _review(demo)["numauto"] == answer["numauto"]
    page = parent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Paiement en cours de vérification" in page and "vérification par la régie" in page
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    detail = parent_client.get(f"/factures/{invoice.id}").get_data(as_text=True)
    assert "paiement en cours" in detail and "Payer en ligne</button>" not in detail
    assert recorder.notices == []
    clock.advance(timedelta(hours=3))  # a claim waits for the agent: never expired meanwhile
    services.reconcile(demo)
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    login(agent_client, "agent@example.org", "agent-demo-password")
    assert "1 paiement à vérifier" in agent_client.get("/").get_data(as_text=True)

    listed = agent_client.get("/gestion/paiements/a-verifier").get_data(as_text=True)
    assert DUPONT_OPEN in listed and answer["numauto"] in listed
    (transaction,) = transactions(demo)
    token = csrf_token(agent_client, "/gestion/paiements/a-verifier")
    decision = {"decision": "confirmer", "csrf_token": token}
    target = f"/gestion/paiements/a-verifier/{transaction.id}"
    assert agent_client.post(target, data=decision).status_code == 303
    assert _state(demo) == (InvoiceStatus.PAID, [PaymentState.PAID])
    again = agent_client.post(target, data=decision, follow_redirects=True)
    assert "Ce paiement a déjà été traité" in again.get_data(as_text=True)
    assert invoice_by_number(demo, DUPONT_OPEN).paid_amount == invoice.total
    assert [n.subject for n in recorder.notices] == [f"Paiement reçu — facture n° {DUPONT_OPEN}"]
    with demo.unit_of_work() as uow:
        (record,) = uow.find(AuditRecord, action="payment_confirmed")
    assert record.record_id == transaction.id and record.family_id == invoice.family_id


def test_review_attack_forged_paid_answer_from_the_redirect_never_credits(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    agent_client: FlaskClient,
    recorder: Recorder,
) -> None:
    """The outside review's attack: the payer reads ``urlcl`` and the fields in the redirect
    PayFiP never sees, and posts ``resultrans=P&numauto=123456`` without ever paying."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(_redirect(demo, parent_client)).query).items()}
    urlcl = path_of(query.pop("urlcl"))
    forged = {**query, "resultrans": "P", "numauto": "123456", "dattrans": "16112026"}
    assert app.test_client().post(urlcl, data=forged).status_code == 303
    assert app.test_client().get(urlcl, query_string=forged).status_code == 303
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert recorder.notices == [] and recorder.payments == []
    # The agent finds nothing on the régie's statement and rejects it: refused, family told.
    (transaction,) = transactions(demo)
    token = csrf_token(agent_client, "/gestion/paiements/a-verifier")
    agent_client.post(
        f"/gestion/paiements/a-verifier/{transaction.id}",
        data={"decision": "rejeter", "csrf_token": token},
    )
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.REFUSED])
    assert [n.subject for n in recorder.notices] == [
        f"Paiement non retrouvé — facture n° {DUPONT_OPEN}"
    ]
    with demo.unit_of_work() as uow:
        assert uow.count(AuditRecord, action="payment_rejected", record_id=transaction.id) == 1
    assert "Payer en ligne</button>" in parent_client.get(
        f"/factures/{transaction.invoice_id}"
    ).get_data(as_text=True)


def test_upper_case_names_and_query_string_answers_are_read(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator
) -> None:
    urlcl, answer = simulator.legacy_answer(_redirect(demo, parent_client), "payer")
    upper = {key.upper(): value for key, value in answer.items()}
    assert app.test_client().get(urlcl, query_string=upper).status_code == 303
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert _review(demo)["numauto"] == answer["numauto"]


@pytest.mark.parametrize(
    ("choice", "state"), [("refuser", PaymentState.REFUSED), ("annuler", PaymentState.CANCELLED)]
)
def test_refused_and_cancelled_answers(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    choice: str,
    state: PaymentState,
) -> None:
    urlcl, answer = simulator.legacy_answer(_redirect(demo, parent_client), choice)
    app.test_client().post(urlcl, data=answer)
    assert _state(demo) == (InvoiceStatus.OPEN, [state])


@pytest.mark.parametrize(
    ("tamper", "logged"),
    [
        ({"montant": "100"}, "montant"),  # wrong amount
        ({"refdet": "2099ZZ99ZZZZ"}, "refdet"),  # unknown refdet
        ({"numcli": "999999"}, "numcli"),
        ({"exer": "2001"}, "exer"),
        ({"saisie": "W"}, "saisie"),
        ({"numauto": ""}, "numauto"),
        ({"resultrans": "Q"}, "resultrans"),
    ],
)
def test_forged_legacy_answer_credits_nothing_and_is_not_a_claim(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    tamper: dict[str, str],
    logged: str,
) -> None:
    urlcl, answer = simulator.legacy_answer(_redirect(demo, parent_client), "payer")
    app.test_client().post(urlcl, data={**answer, **tamper})
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert _review(demo) == {}
    assert f"fields do not match the transaction: {logged}" in caplog.text
    assert "parent@example.org" not in caplog.text


def test_answer_for_another_familys_refdet_credits_nothing(
    demo: Portal, app: Flask, parent_client: FlaskClient, simulator: Simulator
) -> None:
    from tests.conftest import login

    martin = app.test_client()
    login(martin, "martin@example.org", "martin-demo-password")
    response = start_payment(martin, invoice_by_number(demo, MARTIN_OPEN), method="tipi")
    _martin_urlcl, martin_answer = simulator.legacy_answer(response.headers["Location"], "payer")
    dupont_urlcl, _answer = simulator.legacy_answer(_redirect(demo, parent_client), "annuler")
    # MARTIN's paid answer posted to DUPONT's return URL: refdet and amount differ.
    app.test_client().post(dupont_urlcl, data=martin_answer)
    assert _state(demo)[0] is InvoiceStatus.OPEN
    assert invoice_by_number(demo, MARTIN_OPEN).status is InvoiceStatus.OPEN
    assert {t.state for t in transactions(demo)} == {PaymentState.PENDING}


@pytest.mark.parametrize("mode,letter", [("production", "A"), ("activation", "X")])
def test_saisie_follows_mode_and_test_answer_never_credits_in_production(
    demo: Portal,
    app: Flask,
    parent_client: FlaskClient,
    simulator: Simulator,
    mode: str,
    letter: str,
) -> None:
    demo.plugin_config["tipi_payment"] = attrs.evolve(demo.config_for("tipi_payment"), mode=mode)
    urlcl, answer = simulator.legacy_answer(_redirect(demo, parent_client), "payer")
    assert answer["saisie"] == letter
    app.test_client().post(urlcl, data={**answer, "saisie": "T"})
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert _review(demo) == {}  # a test answer is not even a claim
    app.test_client().post(urlcl, data=answer)
    assert _state(demo) == (InvoiceStatus.OPEN, [PaymentState.PENDING])
    assert _review(demo)["numauto"] == answer["numauto"]
