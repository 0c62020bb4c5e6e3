"""What a household is told about its payments (through ``famille_core.notify_family``): the
receipt, an overpayment to be refunded, a refund done, a claim rejected. Never card data: providers send none."""

from __future__ import annotations

from decimal import Decimal

from famille_core.entities import Invoice, Overpayment, PaymentTransaction
from famille_core.money import format_euros


def receipt(
    invoice: Invoice,
    transaction: PaymentTransaction,
    overpayment: Overpayment | None,
    *,
    late: bool = False,
) -> tuple[str, str]:
    """Subject and body of the message posted when a payment is received."""
    subject = (
        f"Paiement reçu en trop — facture n° {invoice.number}"
        if overpayment is not None
        else f"Paiement reçu — facture n° {invoice.number}"
    )
    lines = [
        f"Nous avons bien reçu votre paiement de {format_euros(transaction.amount)} "
        f"pour la facture n° {invoice.number} (référence {invoice.reference}).",
    ]
    if late:
        lines.append(
            "Le service de paiement nous l'a confirmé après l'expiration de la tentative de "
            "paiement : il est maintenant enregistré."
        )
    numauto = str(transaction.provider_data.get("numauto") or "")
    if numauto:
        lines.append(f"Numéro d'autorisation : {numauto}.")
    if overpayment is not None:
        credited = transaction.amount - overpayment.amount
        lines.append(
            "Cette facture était déjà réglée : ce paiement a été reçu en trop."
            if credited <= 0
            else f"Cette facture ne demandait plus que {format_euros(credited)} : "
            f"{format_euros(overpayment.amount)} ont été reçus en trop."
        )
        lines.append(
            "La régie vous remboursera cette somme ; vous n'avez rien à faire. Vous recevrez un "
            "message quand le remboursement sera fait."
        )
    lines.append(
        f"Reste à payer sur cette facture : {format_euros(max(invoice.balance, Decimal('0')))}."
    )
    lines.append("Merci.")
    return subject, "\n".join(lines)


def refunded(invoice: Invoice, overpayment: Overpayment) -> tuple[str, str]:
    """Subject and body of the message posted when an agent marks an overpayment refunded."""
    return (
        f"Trop-perçu remboursé — facture n° {invoice.number}",
        f"La régie vous a remboursé {format_euros(overpayment.amount)} reçus en trop sur la "
        f"facture n° {invoice.number} (référence {invoice.reference}).\nMerci.",
    )


def rejected(invoice: Invoice, transaction: PaymentTransaction) -> tuple[str, str]:
    """Subject and body when an agent finds no trace of a payment that could not be verified."""
    return (
        f"Paiement non retrouvé — facture n° {invoice.number}",
        f"La régie n'a pas retrouvé votre paiement de {format_euros(transaction.amount)} pour la "
        f"facture n° {invoice.number} sur ses relevés : il n'a pas été enregistré. Si votre "
        "compte a été débité, contactez la régie en indiquant la date du paiement.",
    )
