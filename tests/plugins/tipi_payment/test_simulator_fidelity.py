"""The simulator answers as DGFiP does (issue 18, docs/payment.md "DGFiP's answers").

* ``recordings/`` holds one answer of each kind shaped as DGFiP's server writes it; the
  simulator's answer to the same request is compared with it element by element (namespaces,
  names, order, texts — faultstring included), so a simulator that drifts fails here;
* a **strict** fault parser, checking the ``faultstring`` as DGFiP's production clients do
  before reading the detail, reads P1, P5, R3 and A2 from the simulator;
* the portal's own client (tolerant) is replayed against the same recordings in
  ``test_soap_replay.py``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from werkzeug.test import Client, TestResponse

from famille_core.clock import PARIS
from famille_plugins.tipi_payment.services import soap
from famille_plugins.tipi_payment.services.simulator import PayfipSimulator
from famille_plugins.tipi_payment.services.soap import NAMESPACE, SOAP_ENV, PayfipFault
from tests.plugins.tipi_payment.test_soap_replay import CREATE, IDOP

RECORDINGS = Path(__file__).parent / "recordings"
FAULT_STRING = "fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAID_AT = datetime(2026, 11, 16, 9, 5, tzinfo=PARIS)  # the recordings' dattrans / heurtrans


class NotDgfipFault(Exception):
    """What a strict client raises for a fault it does not recognise as DGFiP's."""


def strict_fault_code(status: int, body: bytes) -> str:
    """Read a PayFiP fault the way DGFiP's production clients do: HTTP 500, a SOAP 1.1 fault
    whose ``faultstring`` is exactly the Java exception's class name, then ``code`` in the
    ``FonctionnelleErreur`` of the contract's namespace (unqualified children)."""
    if status != 500:
        raise NotDgfipFault(f"HTTP {status}")
    root = ElementTree.fromstring(body)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or fault is None:
        raise NotDgfipFault("no SOAP 1.1 fault")
    if fault.findtext("faultstring") != FAULT_STRING:
        raise NotDgfipFault(f"faultstring {fault.findtext('faultstring')!r}")
    error = fault.find(f"detail/{{{NAMESPACE}}}FonctionnelleErreur")
    if error is None:
        raise NotDgfipFault("no FonctionnelleErreur in detail")
    if [child.tag for child in error] != ["code", "descriptif", "libelle", "severite"]:
        raise NotDgfipFault(f"detail holds {[child.tag for child in error]}")
    if not (fault.findtext("faultcode") or "").endswith(":Server"):
        raise NotDgfipFault("faultcode")
    return error.findtext("code") or ""


def elements(body: bytes) -> list[tuple[str, str]]:
    """Every element in document order: (path of namespace-qualified names, text), the values
    that change with each operation replaced by their format."""
    root = ElementTree.fromstring(body)
    found: list[tuple[str, str]] = []

    def walk(element: Element, path: str) -> None:
        here = f"{path}/{element.tag}"
        text = (element.text or "").strip()
        name = element.tag
        if name == "idOp" and UUID.fullmatch(text):
            text = "<uuid>"
        elif name == "numauto" and re.fullmatch(r"\d{6}", text):
            text = "<6 digits>"
        found.append((here, text))
        for child in element:
            walk(child, here)

    walk(root, "")
    return found


@pytest.fixture
def payfip() -> Client:
    """The simulator behind a WSGI client, its clock at the recordings' payment time."""
    return Client(PayfipSimulator(notify=lambda url, data: None, now=lambda: PAID_AT))


def call(payfip: Client, operation: str, fields: dict[str, str]) -> TestResponse:
    return payfip.post(
        "/tpa/services/securite",
        data=soap.envelope(operation, fields),
        content_type="text/xml; charset=utf-8",
    )


def created(payfip: Client, **changes: str) -> TestResponse:
    return call(payfip, "creerPaiementSecurise", {**CREATE, **changes})


def idop_of(answer: TestResponse) -> str:
    return soap.parse_answer(answer.get_data(), "creerPaiementSecurise")["idOp"]


def details(payfip: Client, idop: str, name: str = "idOp") -> TestResponse:
    return call(payfip, "recupererDetailPaiementSecurise", {name: idop})


def decided(payfip: Client, choice: str) -> TestResponse:
    idop = idop_of(created(payfip))
    payfip.post("/tpa/paiementws.web", data={"idop": idop, "choix": choice, "perdre": "1"})
    return details(payfip, idop)


# --------------------------------------------------------------------------- strict parser


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        ("R3", lambda payfip: created(payfip, refdet="2026")),
        ("A2", lambda payfip: created(payfip, mel="pas-une-adresse")),
        ("P5", lambda payfip: details(payfip, idop_of(created(payfip)))),
        ("P1", lambda payfip: details(payfip, IDOP)),
        ("P1", lambda payfip: details(payfip, idop_of(created(payfip)), name="idop")),
    ],
)
def test_strict_client_reads_the_simulators_faults(
    payfip: Client, code: str, answer: object
) -> None:
    response = answer(payfip)  # type: ignore[operator]
    assert response.headers["Content-Type"] == "text/xml;charset=utf-8"
    assert strict_fault_code(response.status_code, response.get_data()) == code


def test_strict_client_rejects_the_former_dialect() -> None:
    """The simulator's former faults ("Erreur fonctionnelle"): a production client misreads
    them, which is why the simulator no longer sends them."""
    former = (
        (RECORDINGS / "details_P1.response.xml")
        .read_bytes()
        .replace(FAULT_STRING.encode(), b"Erreur fonctionnelle")
    )
    with pytest.raises(NotDgfipFault, match="faultstring"):
        strict_fault_code(500, former)
    with pytest.raises(NotDgfipFault, match="HTTP 200"):
        strict_fault_code(200, (RECORDINGS / "details_P1.response.xml").read_bytes())


def test_strict_client_reads_every_recorded_fault() -> None:
    for name, code in [
        ("create_R3", "R3"),
        ("create_A2", "A2"),
        ("details_P1", "P1"),
        ("details_P5", "P5"),
        ("details_lowercase_idop_P1", "P1"),
    ]:
        body = (RECORDINGS / f"{name}.response.xml").read_bytes()
        assert strict_fault_code(500, body) == code, name


# --------------------------------------------------------------------------- recordings


@pytest.mark.parametrize(
    ("recording", "status", "answer"),
    [
        ("create_ok", 200, lambda payfip: created(payfip)),
        ("create_R3", 500, lambda payfip: created(payfip, refdet="2026")),
        ("create_A2", 500, lambda payfip: created(payfip, mel="pas-une-adresse")),
        ("details_P5", 500, lambda payfip: details(payfip, idop_of(created(payfip)))),
        ("details_P1", 500, lambda payfip: details(payfip, IDOP)),
        (
            "details_lowercase_idop_P1",
            500,
            lambda payfip: details(payfip, idop_of(created(payfip)), name="idop"),
        ),
        ("details_paid", 200, lambda payfip: decided(payfip, "payer")),
        ("details_refused", 200, lambda payfip: decided(payfip, "refuser")),
        ("details_cancelled", 200, lambda payfip: decided(payfip, "annuler")),
    ],
)
def test_simulator_answers_as_the_recording(
    payfip: Client, recording: str, status: int, answer: object
) -> None:
    response = answer(payfip)  # type: ignore[operator]
    recorded = (RECORDINGS / f"{recording}.response.xml").read_bytes()
    assert response.status_code == status
    assert elements(response.get_data()) == elements(recorded)
    assert response.get_data().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_comparison_sees_a_drifting_simulator() -> None:
    """The comparison is not blind: one renamed element, one other namespace, one other text."""
    recorded = (RECORDINGS / "details_P5.response.xml").read_bytes()
    for drift in (
        recorded.replace(b"severite>", b"severity>"),
        recorded.replace(NAMESPACE.encode(), b"urn:other"),
        recorded.replace(b"S:Server", b"S:Client"),
    ):
        assert elements(drift) != elements(recorded)


def test_portals_client_stays_tolerant_of_the_former_dialect() -> None:
    """The portal reads the fault's code whatever the faultstring (payfip.md: the real service
    and older simulators differ there); only the detail matters to it."""
    former = (
        (RECORDINGS / "details_P5.response.xml")
        .read_bytes()
        .replace(FAULT_STRING.encode(), b"Erreur fonctionnelle")
    )
    with pytest.raises(PayfipFault) as caught:
        soap.parse_answer(former, "recupererDetailPaiementSecurise")
    assert caught.value.code == "P5"
