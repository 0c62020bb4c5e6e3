"""The two PayFiP protocols as payment providers: ``payfip`` (web service, verified with
``recupererDetailPaiementSecurise``) and ``tipi`` (legacy ``paiement.web`` redirect, whose
unsigned answer is checked field by field and, when it says "paid", left for an agent to
confirm: docs/security.md point 34). See payfip.md.

Both only *verify*; the state machine and the crediting are the core's
(:mod:`famille_core.services.payments`). The PayFiP fields of a transaction (``refdet``,
``exer``, ``mode`` — the ``saisie`` letter —, ``mel``, ``numcli``) are checked before it is
stored (:func:`payment_data`) and kept in its ``provider_data``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from famille_core.entities import Actor, Invoice, PaymentState, PaymentTransaction, User
from famille_core.errors import ValidationFailed
from famille_core.hooks.results import (
    ANOMALY,
    ERROR,
    REVIEW,
    WAITING,
    PaymentMethod,
    PaymentOutcome,
    PaymentRedirect,
    PaymentUnavailable,
)
from famille_core.money import to_cents
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_plugins.tipi_payment.services import formats
from famille_plugins.tipi_payment.services.soap import (
    PayfipClient,
    PayfipError,
    PayfipFault,
    PayfipMalformed,
)
from famille_plugins.tipi_payment.settings import PAYFIP, TIPI, TipiSettings, settings_of

log = logging.getLogger(__name__)

PROTOCOLS = (PAYFIP, TIPI)
METHOD_LABELS = {PAYFIP: "Payer en ligne", TIPI: "Payer en ligne"}
"""Both protocols take the card on the State's secure service (PayFiP)."""

RESULTS = {
    "P": PaymentState.PAID,  # card
    "V": PaymentState.PAID,  # direct debit
    "R": PaymentState.REFUSED,  # card refused
    "Z": PaymentState.REFUSED,  # debit refused
    "A": PaymentState.CANCELLED,  # cancelled by the payer
}
FAULT_MESSAGES = {
    "R3": "La référence de la facture est refusée par le service de paiement.",
    "A2": "Votre adresse e-mail est refusée par le service de paiement : corrigez-la dans "
    "« Mon compte ».",
}


def client_for(config: TipiSettings) -> PayfipClient:
    """The SOAP client of the configured PayFiP (or simulator)."""
    return PayfipClient(config.soap_url, config.timeout_seconds)


def objet_for(invoice: Invoice) -> str:
    """The ``objet`` shown on PayFiP's page and ticket."""
    return formats.objet_from_label(f"Facture {invoice.number} {invoice.label}")


def methods(invoice: Invoice) -> list[PaymentMethod]:
    """``payment_methods``: both protocols, refused (and so not offered) from 10,000 €."""
    try:
        formats.montant_from_amount(invoice.balance)  # PayFiP takes less than 10,000 €
    except ValidationFailed as exc:
        refusal: str | None = exc.issues[0].message
    else:
        refusal = None
    return [
        PaymentMethod(code=code, label=label, refusal=refusal)
        for code, label in METHOD_LABELS.items()
    ]


def payment_data(
    portal: Portal,
    uow: UnitOfWork,
    invoice: Invoice,
    actor: Actor,
    provider: str,
    payer_email: str | None = None,
) -> dict[str, Any]:
    """Check every PayFiP field before anything is stored (a refusal changes nothing); they
    become the transaction's ``provider_data``. ``mel`` is the address a payer without an
    account typed, else the logged-in payer's."""
    formats.montant_from_amount(invoice.balance)
    user = uow.get(User, actor.user_id) if actor.user_id is not None else None
    return {
        "refdet": formats.refdet_from_reference(invoice.reference),
        "exer": formats.exer_from_year(invoice.issue_date.year),
        "mode": settings_of(portal).saisie(provider),
        "mel": formats.check_mel(payer_email or (user.email if user else "")),
        "numcli": formats.check_numcli(portal.settings.regie(invoice.regie_code).numcli),
    }


def field_of(transaction: PaymentTransaction, name: str) -> str:
    """A PayFiP field the transaction was created with (``refdet``, ``exer``, ``mode``…)."""
    return str(transaction.provider_data.get(name) or "")


def common_fields(
    portal: Portal, invoice: Invoice, transaction: PaymentTransaction
) -> dict[str, str]:
    """Fields both protocols send, formatted as payfip.md says."""
    return {
        "numcli": formats.check_numcli(portal.settings.regie(invoice.regie_code).numcli),
        "exer": field_of(transaction, "exer"),
        "refdet": field_of(transaction, "refdet"),
        "montant": formats.montant_from_amount(transaction.amount),
        "mel": field_of(transaction, "mel"),
        "objet": objet_for(invoice),
        "saisie": field_of(transaction, "mode"),
    }


# --------------------------------------------------------------------------- web service


def payfip_link(
    portal: Portal,
    invoice: Invoice,
    transaction: PaymentTransaction,
    return_url: str,
    notify_url: str,
) -> PaymentRedirect:
    """``creerPaiementSecurise``, then the payment page with ``?idop=``.

    :raises ValidationFailed: PayFiP refused a field (R3, A2…): the payer is told why.
    :raises PayfipError: no usable answer (the transaction stays pending).
    """
    config = settings_of(portal)
    fields = {
        **common_fields(portal, invoice, transaction),
        "urlnotif": notify_url,
        "urlredirect": return_url,
    }
    try:
        idop = client_for(config).create_payment(fields)
    except PayfipFault as fault:
        log.warning(
            "PayFiP refused the payment creation: fault %s",
            fault.code,
            extra={"transaction_id": transaction.id},
        )
        message = FAULT_MESSAGES.get(
            fault.code, f"Le service de paiement a refusé la demande (code {fault.code})."
        )
        raise ValidationFailed.single(f"payfip_{fault.code}", message) from fault
    except PayfipError as exc:
        raise PaymentUnavailable(f"PayFiP creation failed: {exc}") from exc
    return PaymentRedirect(
        url=f"{config.payment_page_url}?{urlencode({'idop': idop})}", provider_ref=idop
    )


def _answered_idop(data: dict[str, str]) -> str:
    for key in ("idOp", "idop", "IDOP"):
        if data.get(key):
            return data[key]
    return ""


def payfip_outcome(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome:
    """Ask PayFiP (``recupererDetailPaiementSecurise``) about the transaction's own idOp:
    whatever the notification or the browser says, only this answer is trusted."""
    config = settings_of(portal)
    idop = transaction.provider_ref or ""

    def unknown(status: str) -> PaymentOutcome:
        return PaymentOutcome(
            provider_ref=idop or None,
            transaction_id=transaction.id,
            state=None,
            data={"status": status},
        )

    if not idop:
        return unknown(WAITING)  # creation never answered: nobody could pay it
    answered = _answered_idop(data)
    if answered and answered != idop:
        log.warning(
            "payment answer names another idOp; asking PayFiP about ours",
            extra={"transaction_id": transaction.id},
        )
    try:
        details = client_for(config).payment_details(idop)
    except PayfipFault as fault:
        if fault.code == "P5":
            return unknown(WAITING)
        if fault.code == "P1":
            return PaymentOutcome(
                provider_ref=idop,
                transaction_id=transaction.id,
                state=PaymentState.EXPIRED.value,
                data={"reason": "P1"},
            )
        log.error(
            "PayFiP verification fault %s", fault.code, extra={"transaction_id": transaction.id}
        )
        return unknown(ERROR)
    except PayfipError as exc:
        # The outcome is unknown: credit nothing, keep the transaction pending.
        what = "malformed answer" if isinstance(exc, PayfipMalformed) else "no answer"
        log.error(
            "PayFiP verification failed: %s (%s)",
            what,
            exc,
            extra={"transaction_id": transaction.id},
        )
        return unknown(ERROR)
    return _checked_outcome(portal, transaction, details, protocol=PAYFIP)


def _checked_outcome(
    portal: Portal, transaction: PaymentTransaction, answer: dict[str, str], *, protocol: str
) -> PaymentOutcome:
    """Compare the answer with the stored transaction; any difference credits nothing."""
    config = settings_of(portal)
    mismatches = [
        name
        for name, expected in (
            ("numcli", _numcli_of(portal, transaction)),
            ("exer", field_of(transaction, "exer")),
            ("refdet", field_of(transaction, "refdet")),
            ("montant", str(to_cents(transaction.amount))),
            ("saisie", config.saisie(protocol)),
        )
        if answer.get(name, "") != expected
    ]
    if protocol == PAYFIP and answer.get("idOp") != transaction.provider_ref:
        mismatches.append("idOp")
    result = RESULTS.get(answer.get("resultrans", ""))
    if result is None:
        mismatches.append("resultrans")
    if result is PaymentState.PAID and protocol == TIPI and not answer.get("numauto"):
        mismatches.append("numauto")
    if mismatches:
        # Field names only: the values may be personal (e-mail) or forged.
        log.warning(
            "payment answer refused, fields do not match the transaction: %s",
            ", ".join(mismatches),
            extra={"transaction_id": transaction.id, "provider": protocol},
        )
        return PaymentOutcome(
            provider_ref=transaction.provider_ref,
            transaction_id=transaction.id,
            state=None,
            data={"status": ANOMALY, "anomaly": ",".join(mismatches)},
        )
    assert result is not None
    return PaymentOutcome(
        provider_ref=transaction.provider_ref,
        transaction_id=transaction.id,
        state=result.value,
        amount_cents=int(answer["montant"]),
        data={
            key: answer.get(key, "") for key in ("resultrans", "numauto", "dattrans", "heurtrans")
        },
    )


def _numcli_of(portal: Portal, transaction: PaymentTransaction) -> str:
    """The ``numcli`` the payment was created with (kept with the transaction)."""
    return str(transaction.provider_data.get("numcli") or portal.settings.regie().numcli)


# --------------------------------------------------------------------------- legacy redirect


def tipi_link(
    portal: Portal, invoice: Invoice, transaction: PaymentTransaction, return_url: str
) -> PaymentRedirect:
    """``paiement.web?numcli=…&urlcl=…``: the answer is posted to ``urlcl`` by the payer's
    browser (the redirect, ``urlcl`` included, is the payer's to read and replay)."""
    config = settings_of(portal)
    query = {**common_fields(portal, invoice, transaction), "urlcl": return_url}
    return PaymentRedirect(url=f"{config.legacy_url}?{urlencode(query)}")


def tipi_outcome(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome:
    """Check the unsigned legacy answer against the stored transaction (names read
    case-insensitively). Nothing to ask: without an answer the result is still waiting.

    The answer comes through the payer's browser and nothing signs it, so it proves nothing: a
    "paid" answer whose fields match is only a claim, kept for an agent to confirm against the
    régie's statement (``review``, docs/security.md point 34). A refusal or a cancellation
    credits nothing and lets the family try again.
    """
    answer = {key.lower(): value.strip() for key, value in data.items()}
    if not answer.get("resultrans"):
        return PaymentOutcome(
            provider_ref=None, transaction_id=transaction.id, state=None, data={"status": WAITING}
        )
    outcome = _checked_outcome(portal, transaction, answer, protocol=TIPI)
    if outcome.state != PaymentState.PAID.value:
        return outcome
    return PaymentOutcome(
        provider_ref=None,
        transaction_id=transaction.id,
        state=None,
        data={"status": REVIEW, **outcome.data},
    )
