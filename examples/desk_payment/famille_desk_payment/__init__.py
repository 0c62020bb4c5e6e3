"""Example payment provider: the town-hall desk (« Payer au guichet de la mairie »).

It proves that a collectivity swaps its payment provider by configuration alone::

    [portal]
    plugins = ["profile", "inbox", "calendar", "tipi_payment", "desk_payment"]

    [plugins.tipi_payment]
    providers = ["guichet"]          # instead of the default ["payfip"]

    [plugins.desk_payment]
    secret = "a long random secret shared with the cash register"

The provider implements the three payment hooks and nothing else: the ``tipi_payment`` plugin
stores the pending transaction, routes the answers and credits the invoice exactly once.

1. ``payment_link``: the payer is sent back to the portal's return page (the payment is
   pending) and the payment joins the desk's queue (``instance/guichet/<id>.json``: reference,
   amount and the notification URL).
2. At the desk, the cash register takes the money and posts to the notification URL
   ``montant`` (cents), ``recu`` (its receipt number) and ``signature`` =
   HMAC-SHA256(secret, ``"<transaction id>:<montant>:<recu>"``), hex.
3. ``payment_response`` verifies the signature and the amount before saying "paid". The
   notification URL carries no secret: the signature is the proof.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from attrs import frozen

from famille_core import hookimpl
from famille_core.hooks.results import PaymentMethod, PaymentOutcome, PaymentRedirect
from famille_core.money import to_cents

GUICHET = "guichet"


@frozen(kw_only=True)
class DeskSettings:
    """``[plugins.desk_payment]``."""

    secret: str = ""
    """Shared with the cash register; empty: no desk answer is ever accepted."""


def signature(secret: str, transaction_id: int, montant: str, recu: str) -> str:
    """What the cash register signs (hex HMAC-SHA256)."""
    message = f"{transaction_id}:{montant}:{recu}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@hookimpl
def plugin_settings() -> tuple[str, type]:
    return ("desk_payment", DeskSettings)


@hookimpl
def payment_methods(portal: Any, invoice: Any, actor: Any) -> Sequence[PaymentMethod]:
    return [PaymentMethod(code=GUICHET, label="Payer au guichet de la mairie")]


@hookimpl
def payment_link(
    portal: Any, invoice: Any, transaction: Any, return_url: str, notify_url: str
) -> PaymentRedirect | None:
    if transaction.provider != GUICHET:
        return None
    queue = portal.path("guichet")
    queue.mkdir(parents=True, exist_ok=True)
    (queue / f"{transaction.id}.json").write_text(
        json.dumps(
            {
                "transaction": transaction.id,
                "invoice": invoice.number,
                "reference": invoice.reference,
                "montant": str(to_cents(transaction.amount)),
                "notify_url": notify_url,
            }
        ),
        encoding="utf-8",
    )
    return PaymentRedirect(url=return_url, provider_ref=f"GUICHET-{transaction.id}")


@hookimpl
def payment_response(portal: Any, transaction: Any, data: dict[str, str]) -> PaymentOutcome | None:
    if transaction.provider != GUICHET:
        return None
    secret = portal.config_for("desk_payment").secret
    montant, recu = data.get("montant", ""), data.get("recu", "")
    expected = signature(secret, transaction.id, montant, recu) if secret else ""
    verified = bool(expected) and hmac.compare_digest(expected, data.get("signature", ""))
    if not verified or montant != str(to_cents(transaction.amount)) or not recu:
        # Not (yet) paid at the desk ("waiting": expired after the portal's delay, and still
        # credited if the cash register answers later), or not signed by it ("anomaly").
        return PaymentOutcome(
            provider_ref=transaction.provider_ref,
            transaction_id=transaction.id,
            state=None,
            data={"status": "anomaly" if data else "waiting"},
        )
    return PaymentOutcome(
        provider_ref=transaction.provider_ref,
        transaction_id=transaction.id,
        state="paid",
        amount_cents=int(montant),
        data={"numauto": recu},
    )
