"""A local PayFiP simulator: a small WSGI application, separate from the portal.

The real DGFiP service is unreachable from development and CI machines, so the demo and the
tests pay through this one (``famille payfip-simulator --port 5050``). The portal talks to it
exactly as to ``www.payfip.gouv.fr``; only ``[plugins.tipi_payment] base_url`` differs.

It implements, with the formats of payfip.md:

* ``POST /tpa/services/securite`` — SOAP 1.1 ``creerPaiementSecurise`` and
  ``recupererDetailPaiementSecurise`` (faults ``P1`` unknown or purged idOp, ``P5`` result not
  known yet, ``R3`` bad ``refdet``, ``A2`` bad e-mail); ``?wsdl`` gives the shipped contract;
* ``GET /tpa/paiementws.web?idop=…`` — the payment page (pay, refuse, cancel), then the
  notification POST to ``urlnotif`` and the way back to ``urlredirect``;
* ``GET /tpa/paiement.web?numcli=…`` — the legacy redirect, whose answer is form-posted to
  ``urlcl``;
* ``POST /simulateur/purger`` — forget every operation (the nightly purge: P1 afterwards).

Nothing here moves money; every operation lives in memory. A development tool: no production
module imports it, only the ``famille payfip-simulator`` command and the tests
(``tests/test_import_contract.py``, ``DEV_TOOLS``).
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from attrs import define, field
from defusedxml import ElementTree as SafeElementTree
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from famille_core.clock import PARIS
from famille_plugins.tipi_payment.services.soap import CREATE_FIELDS, NAMESPACE, SOAP_ENV

log = logging.getLogger(__name__)

CONTRACT = Path(__file__).parents[1] / "PaiementSecuriseService.wsdl"
RESULTS = {"payer": "P", "refuser": "R", "annuler": "A"}
LEGACY_ANSWER = ("numcli", "exer", "refdet", "objet", "montant", "mel", "saisie")
FAULTS = {
    "P1": ("IdOp incorrect", "L'opération demandée est inconnue ou a été purgée."),
    "P5": ("Résultat inconnu", "Le paiement est en cours : son résultat n'est pas encore connu."),
    "R3": (
        "Le format du paramètre REFDET n'est pas conforme",
        "6 à 30 caractères alphanumériques.",
    ),
    "A2": ("Adresse mél incorrecte", "L'adresse électronique du payeur n'est pas valide."),
    "N1": ("Numéro client incorrect", "NUMCLI doit compter 6 chiffres."),
    "M1": ("Montant incorrect", "MONTANT : entier de 1 à 999999 centimes."),
    "E1": ("Exercice incorrect", "EXER : année sur 4 chiffres."),
    "S1": ("Saisie incorrecte", "SAISIE : T, X ou W."),
    "U1": ("URL incorrecte", "URLNOTIF et URLREDIRECT sont obligatoires."),
}

Notifier = Callable[[str, Mapping[str, str]], None]


def http_notify(url: str, data: Mapping[str, str]) -> None:
    """POST ``data`` form-encoded to ``url`` (PayFiP's notification)."""
    body = urllib.parse.urlencode(dict(data)).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


@define
class Operation:
    """One payment operation (an ``idOp``), as PayFiP keeps it until the nightly purge."""

    idop: str
    fields: dict[str, str]
    legacy: bool = False
    result: str | None = None
    numauto: str = ""
    dattrans: str = ""
    heurtrans: str = ""
    notifications: list[str] = field(factory=list)


def validation_fault(fields: Mapping[str, str], *, legacy: bool) -> str | None:
    """The fault code PayFiP answers for these fields, or ``None`` when they are valid."""
    if not re.fullmatch(r"\d{6}", fields.get("numcli", "")):
        return "N1"
    if not re.fullmatch(r"\d{4}", fields.get("exer", "")):
        return "E1"
    if not re.fullmatch(r"[A-Za-z0-9]{6,30}", fields.get("refdet", "")):
        return "R3"
    montant = fields.get("montant", "")
    if not re.fullmatch(r"[1-9]\d{0,5}", montant):
        return "M1"
    mel = fields.get("mel", "")
    if not 6 <= len(mel) <= 80 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", mel):
        return "A2"
    if fields.get("saisie") not in (("T", "X", "A", "M", "W") if legacy else ("T", "X", "W")):
        return "S1"
    if legacy and not fields.get("urlcl"):
        return "U1"
    if not legacy and not (fields.get("urlnotif") and fields.get("urlredirect")):
        return "U1"
    return None


FAULT_STRING = "fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur"
"""The ``faultstring`` of every PayFiP functional fault: the Java exception's class name, which
production clients check before reading the detail (docs/payment.md, "DGFiP's answers")."""
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>"
"""DGFiP's JAX-WS server writes this declaration (single quotes) and the ``S:`` prefix."""


def soap_answer(operation: str, values: Mapping[str, str]) -> bytes:
    """``<operation>Response/return`` holding ``values``, as DGFiP's server writes it."""
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in values.items())
    return (
        f'{XML_DECLARATION}<S:Envelope xmlns:S="{SOAP_ENV}">'
        f'<S:Body><ns2:{operation}Response xmlns:ns2="{NAMESPACE}"><return>{inner}</return>'
        f"</ns2:{operation}Response></S:Body></S:Envelope>"
    ).encode()


def soap_fault(code: str) -> bytes:
    """A SOAP fault carrying a ``FonctionnelleErreur``, as DGFiP answers them (HTTP 500):
    ``faultcode`` ``S:Server``, ``faultstring`` :data:`FAULT_STRING`, and in ``detail`` a
    ``FonctionnelleErreur`` of the contract's namespace holding ``code``, ``descriptif``,
    ``libelle`` and ``severite`` (unqualified), in that order."""
    libelle, descriptif = FAULTS[code]
    return (
        f'{XML_DECLARATION}<S:Envelope xmlns:S="{SOAP_ENV}">'
        "<S:Body><S:Fault><faultcode>S:Server</faultcode>"
        f"<faultstring>{FAULT_STRING}</faultstring><detail>"
        f'<ns2:FonctionnelleErreur xmlns:ns2="{NAMESPACE}"><code>{code}</code>'
        f"<descriptif>{escape(descriptif)}</descriptif><libelle>{escape(libelle)}</libelle>"
        "<severite>2</severite></ns2:FonctionnelleErreur></detail></S:Fault></S:Body>"
        "</S:Envelope>"
    ).encode()


def client_fault(message: str) -> bytes:
    """A SOAP fault that is not a ``FonctionnelleErreur`` (an operation the contract does not
    have): ``S:Client``, no detail."""
    return (
        f'{XML_DECLARATION}<S:Envelope xmlns:S="{SOAP_ENV}">'
        "<S:Body><S:Fault><faultcode>S:Client</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></S:Fault></S:Body></S:Envelope>"
    ).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — Simulateur PayFiP</title></head><body>"
        "<header><p><strong>Simulateur PayFiP</strong> — aucun paiement réel</p></header>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(document, status=status, mimetype="text/html")


def _hidden(values: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in values.items()
    )


def _euros(montant: str) -> str:
    cents = int(montant)
    return f"{cents // 100},{cents % 100:02d} €"


class PayfipSimulator:
    """The WSGI application. ``notify`` sends the notification POST (tests plug in a Flask
    test client); ``now`` gives the Paris time of the transactions."""

    def __init__(
        self, notify: Notifier | None = None, now: Callable[[], datetime] | None = None
    ) -> None:
        self.notify: Notifier = notify or http_notify
        self.now = now or (lambda: datetime.now(PARIS))
        self.operations: dict[str, Operation] = {}
        self.soap_calls: list[str] = []
        self._lock = threading.Lock()
        self.url_map = Map(
            [
                Rule("/tpa/services/securite", endpoint="soap", methods=["GET", "POST"]),
                Rule("/tpa/paiementws.web", endpoint="ws_page", methods=["GET", "POST"]),
                Rule("/tpa/paiement.web", endpoint="legacy_page", methods=["GET", "POST"]),
                Rule("/simulateur/purger", endpoint="purge", methods=["POST"]),
                Rule("/", endpoint="home", methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, _args = adapter.match()
            response: Response = getattr(self, f"on_{endpoint}")(request)
        except HTTPException as exc:
            response = _page(
                "Erreur", f"<p>{html.escape(exc.description or '')}</p>", exc.code or 500
            )
        return response(environ, start_response)

    def purge(self) -> None:
        """The nightly purge: every idOp becomes unknown (P1)."""
        with self._lock:
            self.operations.clear()

    def on_home(self, request: Request) -> Response:
        return _page(
            "Simulateur PayFiP", "<p>Service de paiement simulé pour le Portail Famille.</p>"
        )

    def on_purge(self, request: Request) -> Response:
        self.purge()
        return Response("purged", mimetype="text/plain")

    # ------------------------------------------------------------------ SOAP

    def on_soap(self, request: Request) -> Response:
        if request.method == "GET":
            if "wsdl" not in {key.lower() for key in request.args}:
                raise NotFound("Utilisez ?wsdl ou un appel SOAP.")
            return Response(CONTRACT.read_bytes(), mimetype="text/xml")
        try:
            root = SafeElementTree.fromstring(request.get_data())
            body = next(child for child in root if _local(child.tag) == "Body")
            call = next(iter(body))
            arg0 = next(child for child in call if _local(child.tag) == "arg0")
        except Exception:
            return Response(
                b"<html><body>Bad request</body></html>", status=400, mimetype="text/html"
            )
        operation = _local(call.tag)
        self.soap_calls.append(operation)
        fields = {_local(child.tag): (child.text or "").strip() for child in arg0}
        if operation == "creerPaiementSecurise":
            return self._create(fields)
        if operation == "recupererDetailPaiementSecurise":
            return self._details(fields)
        return self._xml(
            client_fault(f"Cannot find dispatch method for {{{NAMESPACE}}}{operation}"), 500
        )

    def _xml(self, content: bytes, status: int = 200) -> Response:
        """A SOAP answer: HTTP 500 for a fault, ``text/xml;charset=utf-8`` as DGFiP sends."""
        return Response(content, status=status, content_type="text/xml;charset=utf-8")

    def _create(self, fields: dict[str, str]) -> Response:
        fault = validation_fault(fields, legacy=False)
        if fault:
            return self._xml(soap_fault(fault), 500)
        idop = str(uuid.uuid4())
        with self._lock:
            self.operations[idop] = Operation(
                idop=idop, fields={k: fields[k] for k in CREATE_FIELDS}
            )
        return self._xml(soap_answer("creerPaiementSecurise", {"idOp": idop}))

    def _details(self, fields: dict[str, str]) -> Response:
        # PayFiP wants <idOp>; a lower-case <idop> is an unknown operation (P1).
        with self._lock:
            operation = self.operations.get(fields.get("idOp", ""))
        if operation is None or operation.legacy:
            return self._xml(soap_fault("P1"), 500)
        if operation.result is None:
            return self._xml(soap_fault("P5"), 500)
        return self._xml(soap_answer("recupererDetailPaiementSecurise", self.details_of(operation)))

    def details_of(self, operation: Operation) -> dict[str, str]:
        """The answer of ``recupererDetailPaiementSecurise``, fields in the contract's order."""
        f = operation.fields
        return {
            "dattrans": operation.dattrans,
            "exer": f["exer"],
            "heurtrans": operation.heurtrans,
            "idOp": operation.idop,
            "mel": f["mel"],
            "montant": f["montant"],
            "numauto": operation.numauto,
            "numcli": f["numcli"],
            "objet": f.get("objet", ""),
            "refdet": f["refdet"],
            "resultrans": operation.result or "",
            "saisie": f["saisie"],
        }

    # ------------------------------------------------------------------ payment pages

    def _decide(self, operation: Operation, choice: str) -> bool:
        """Record the payer's choice once; ``False`` when the operation was already used."""
        with self._lock:
            if operation.result is not None:
                return False
            operation.result = RESULTS[choice]
            now = self.now().astimezone(PARIS)
            operation.dattrans = now.strftime("%d%m%Y")
            operation.heurtrans = now.strftime("%H%M")
            if operation.result == "P":
                operation.numauto = f"{secrets.randbelow(1_000_000):06d}"
        return True

    def _summary(self, fields: Mapping[str, str]) -> str:
        return (
            "<dl>"
            f"<dt>Objet</dt><dd>{html.escape(fields.get('objet', ''))}</dd>"
            f"<dt>Référence</dt><dd>{html.escape(fields.get('refdet', ''))}</dd>"
            f"<dt>Identifiant collectivité</dt><dd>{html.escape(fields.get('numcli', ''))}</dd>"
            f"<dt>Montant</dt><dd>{_euros(fields.get('montant', '0'))}</dd>"
            "</dl>"
        )

    def _buttons(self, action: str, hidden: Mapping[str, str], *, lost_option: bool) -> str:
        lost = (
            '<p><input type="checkbox" id="perdre" name="perdre" value="1">'
            '<label for="perdre">Ne pas envoyer la notification (notification perdue)</label></p>'
            if lost_option
            else ""
        )
        return (
            f'<form method="post" action="{html.escape(action)}">{_hidden(hidden)}{lost}'
            '<button type="submit" name="choix" value="payer">Payer</button> '
            '<button type="submit" name="choix" value="refuser">Simuler un refus de la banque</button> '
            '<button type="submit" name="choix" value="annuler">Annuler</button></form>'
        )

    def on_ws_page(self, request: Request) -> Response:
        values = request.form if request.method == "POST" else request.args
        idop = values.get("idop", "") or values.get("idOp", "")
        with self._lock:
            operation = self.operations.get(idop)
        if operation is None or operation.legacy:
            return _page(
                "Opération inconnue", "<p>Cette opération est inconnue ou a expiré.</p>", 404
            )
        if request.method == "GET":
            if operation.result is not None:
                return _page("Opération déjà traitée", "<p>Ce paiement a déjà été traité.</p>", 409)
            body = self._summary(operation.fields) + self._buttons(
                "/tpa/paiementws.web", {"idop": idop}, lost_option=True
            )
            return _page("Paiement de votre facture", body)
        choice = request.form.get("choix", "")
        if choice not in RESULTS:
            return _page("Choix inconnu", "<p>Choisissez payer, refuser ou annuler.</p>", 400)
        if not self._decide(operation, choice):
            return _page("Opération déjà traitée", "<p>Ce paiement a déjà été traité.</p>", 409)
        if not request.form.get("perdre"):
            self._send_notification(operation)
        back = operation.fields["urlredirect"]
        back += ("&" if "?" in back else "?") + urllib.parse.urlencode({"idop": idop})
        titles = {"P": "Paiement accepté", "R": "Paiement refusé", "A": "Paiement annulé"}
        assert operation.result is not None
        body = (
            f"<p>Résultat : {titles[operation.result]}.</p>"
            f'<p><a href="{html.escape(back)}">Retourner sur le site de la collectivité</a></p>'
        )
        return _page(titles[operation.result], body)

    def _send_notification(self, operation: Operation) -> None:
        try:
            self.notify(operation.fields["urlnotif"], {"idOp": operation.idop})
            operation.notifications.append("sent")
        except Exception as exc:  # a notification can be lost: PayFiP does not retry
            log.warning("simulator: notification failed (%s)", type(exc).__name__)
            operation.notifications.append("failed")

    def on_legacy_page(self, request: Request) -> Response:
        if request.method == "GET":
            fields = {key.lower(): value for key, value in request.args.items()}
            fault = validation_fault(fields, legacy=True)
            if fault:
                libelle, descriptif = FAULTS[fault]
                return _page(
                    "Paiement impossible",
                    f"<p>Erreur {fault} : {html.escape(libelle)}. {html.escape(descriptif)}</p>",
                    400,
                )
            token = secrets.token_urlsafe(16)
            with self._lock:
                self.operations[token] = Operation(idop=token, fields=fields, legacy=True)
            body = self._summary(fields) + self._buttons(
                "/tpa/paiement.web", {"operation": token}, lost_option=False
            )
            return _page("Paiement de votre facture", body)
        with self._lock:
            operation = self.operations.get(request.form.get("operation", ""))
        choice = request.form.get("choix", "")
        if operation is None or not operation.legacy or choice not in RESULTS:
            return _page(
                "Opération inconnue", "<p>Cette opération est inconnue ou a expiré.</p>", 404
            )
        if not self._decide(operation, choice):
            return _page("Opération déjà traitée", "<p>Ce paiement a déjà été traité.</p>", 409)
        return _page("Retour vers la collectivité", self.legacy_answer_form(operation))

    def legacy_answer(self, operation: Operation) -> dict[str, str]:
        """The form-encoded answer TIPI posts to ``urlcl``."""
        answer = {name: operation.fields.get(name, "") for name in LEGACY_ANSWER}
        answer.update(
            resultrans=operation.result or "",
            numauto=operation.numauto,
            dattrans=operation.dattrans,
            heurtrans=operation.heurtrans,
        )
        return answer

    def legacy_answer_form(self, operation: Operation) -> str:
        """The page that posts the answer back (a button: it works without JavaScript)."""
        return (
            f'<form method="post" action="{html.escape(operation.fields["urlcl"])}">'
            f"{_hidden(self.legacy_answer(operation))}"
            "<p>Résultat transmis à la collectivité.</p>"
            '<button type="submit">Retourner sur le site de la collectivité</button></form>'
        )


def serve(host: str, port: int) -> None:
    """Serve a :class:`PayfipSimulator` on ``host:port`` until interrupted."""
    from werkzeug.serving import run_simple

    run_simple(host, port, PayfipSimulator(), threaded=True, use_reloader=False)
