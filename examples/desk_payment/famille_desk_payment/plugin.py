"""Hook implementations of the ``desk_payment`` example: the provider ``guichet``."""

from famille_core import hookimpl
from famille_core.hooks.results import PaymentMethod, PaymentOutcome, PaymentRedirect
from famille_desk_payment.settings import DeskSettings, settings_of


@hookimpl
def plugin_settings():
    return ("desk_payment", DeskSettings)


@hookimpl
def payment_methods(portal, invoice, actor):
    return [PaymentMethod(code="guichet", label="Payer au guichet de la mairie")]


@hookimpl
def payment_link(transaction, return_url):
    """Back to the portal's result page (« en cours »): the payer goes to the desk."""
    return PaymentRedirect(url=return_url, provider_ref=f"GUICHET-{transaction.id}") if transaction.provider == "guichet" else None


@hookimpl
def payment_response(portal, transaction, data):
    """Paid when the cash register signed it for the transaction's amount; else "waiting"
    (expired after the portal's delay, still credited if it answers later), or "anomaly"."""
    if transaction.provider != "guichet":
        return None
    montant, recu = data.get("montant", ""), data.get("recu", "")
    paid = bool(recu) and montant == str(int(transaction.amount * 100)) and settings_of(portal).signed(transaction.id, montant, recu, data.get("signature", ""))
    state, details = ("paid", {"numauto": recu}) if paid else (None, {"status": "anomaly" if data else "waiting"})
    return PaymentOutcome(provider_ref=transaction.provider_ref, transaction_id=transaction.id, state=state, amount_cents=int(montant) if paid else None, data=details)
