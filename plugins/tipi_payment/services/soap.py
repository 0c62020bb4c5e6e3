"""A small SOAP 1.1 client for PayFiP's ``PaiementSecuriseService`` (payfip.md, section 1).

The published WSDL references XSD files that cannot be resolved, so the contract is shipped in
this folder (``PaiementSecuriseService.wsdl`` and ``.xsd``) and the two operations are written by hand: ``creerPaiementSecurise`` and
``recupererDetailPaiementSecurise``. Answers are parsed with :mod:`defusedxml` (no entity
expansion, no external resources).

Three kinds of failure, kept apart because they mean different things for the money:

* :class:`PayfipFault` — PayFiP answered with a ``FonctionnelleErreur`` (``P1``, ``P5``, ``R3``…);
* :class:`PayfipUnavailable` — no answer (timeout, connection refused): the outcome is unknown;
* :class:`PayfipMalformed` — an answer that is not the expected XML: the outcome is unknown.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

NAMESPACE = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService"
)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CREATE_FIELDS = (
    "exer",
    "mel",
    "montant",
    "numcli",
    "objet",
    "refdet",
    "saisie",
    "urlnotif",
    "urlredirect",
)
DETAIL_FIELDS = (
    "dattrans",
    "exer",
    "heurtrans",
    "idOp",
    "mel",
    "montant",
    "numauto",
    "numcli",
    "objet",
    "refdet",
    "resultrans",
    "saisie",
)


class PayfipError(Exception):
    """A technical failure talking to PayFiP: the outcome of the call is unknown."""


class PayfipUnavailable(PayfipError):
    """No answer in time, or no connection."""


class PayfipMalformed(PayfipError):
    """The answer is not the XML the contract describes."""


class PayfipFault(Exception):
    """A ``FonctionnelleErreur`` answered by PayFiP."""

    def __init__(self, code: str, libelle: str = "", descriptif: str = "") -> None:
        super().__init__(f"PayFiP fault {code}")
        self.code = code
        self.libelle = libelle
        self.descriptif = descriptif


Transport = Callable[[str, bytes, float], bytes]
"""``(url, request body, timeout) -> response body``; raises :class:`PayfipUnavailable`."""


def http_transport(url: str, body: bytes, timeout: float) -> bytes:
    """POST ``body`` to ``url``; SOAP faults come back with HTTP 500 and are returned too."""
    request = urllib.request.Request(  # noqa: S310 - the URL comes from the configuration
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 500:
            return bytes(exc.read())
        raise PayfipUnavailable(f"HTTP {exc.code}") from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise PayfipUnavailable(type(exc).__name__) from exc


def envelope(operation: str, fields: Mapping[str, str]) -> bytes:
    """The SOAP request of ``operation`` with one ``<arg0>`` holding ``fields``."""
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pai="{NAMESPACE}">'
        "<soapenv:Header/><soapenv:Body>"
        f"<pai:{operation}><arg0>{inner}</arg0></pai:{operation}>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def parse_answer(body: bytes, operation: str) -> dict[str, str]:
    """The fields of ``<return>`` in ``<operation>Response``.

    :raises PayfipFault: the body is a SOAP fault carrying a ``FonctionnelleErreur``.
    :raises PayfipMalformed: anything else that is not the expected answer.
    """
    try:
        root = SafeElementTree.fromstring(body)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise PayfipMalformed("unparsable XML") from exc
    soap_body = _child(root, "Body") if _local(root.tag) == "Envelope" else None
    if soap_body is None:
        raise PayfipMalformed("no SOAP body")
    fault = _child(soap_body, "Fault")
    if fault is not None:
        raise _fault(fault)
    response = _child(soap_body, f"{operation}Response")
    result = _child(response, "return") if response is not None else None
    if result is None:
        raise PayfipMalformed(f"no {operation}Response/return")
    return {_local(child.tag): (child.text or "").strip() for child in result}


def _fault(fault: Element) -> Exception:
    detail = _child(fault, "detail")
    error = _child(detail, "FonctionnelleErreur") if detail is not None else None
    if error is None:
        return PayfipMalformed("SOAP fault without FonctionnelleErreur")
    values = {_local(child.tag): (child.text or "").strip() for child in error}
    if not values.get("code"):
        return PayfipMalformed("FonctionnelleErreur without code")
    return PayfipFault(values["code"], values.get("libelle", ""), values.get("descriptif", ""))


class PayfipClient:
    """The two operations of the web service, at ``soap_url``."""

    def __init__(self, soap_url: str, timeout: float, transport: Transport | None = None) -> None:
        self.soap_url = soap_url
        self.timeout = timeout
        self.transport = transport

    def _call(self, operation: str, fields: Mapping[str, str]) -> dict[str, str]:
        transport = self.transport or TRANSPORT
        body = transport(self.soap_url, envelope(operation, fields), self.timeout)
        return parse_answer(body, operation)

    def create_payment(self, fields: Mapping[str, str]) -> str:
        """``creerPaiementSecurise``: the new operation id (``idOp``)."""
        missing = [name for name in CREATE_FIELDS if name not in fields]
        if missing:
            raise ValueError(f"missing fields: {missing}")
        answer = self._call("creerPaiementSecurise", {name: fields[name] for name in CREATE_FIELDS})
        idop = answer.get("idOp", "")
        if not 1 <= len(idop) <= 64 or not idop.replace("-", "").isalnum():
            raise PayfipMalformed("creerPaiementSecurise answered no usable idOp")
        return idop

    def payment_details(self, idop: str) -> dict[str, str]:
        """``recupererDetailPaiementSecurise`` (note the capital O of ``idOp``)."""
        answer = self._call("recupererDetailPaiementSecurise", {"idOp": idop})
        if not answer.get("resultrans"):
            raise PayfipMalformed("recupererDetailPaiementSecurise answered no resultrans")
        return answer


TRANSPORT: Transport = http_transport
"""The transport used when a client has none (tests replace it to replay recorded exchanges)."""
