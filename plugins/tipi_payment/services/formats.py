"""PayFiP / TIPI field formats (payfip.md, "Field formats").

Every value sent to PayFiP goes through one of these functions; each refuses what the service
would reject, with a French message for the payer and a stable code for machines.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from famille_core.errors import ValidationFailed
from famille_core.mail import is_email_address
from famille_core.money import from_cents, to_cents

MAX_ONLINE_CENTS = 999_999
"""Online payment is limited to amounts below 10,000 € (``montant`` has at most 6 digits)."""

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_REFDET = re.compile(r"[A-Za-z0-9]{6,30}")
_NUMCLI = re.compile(r"\d{6}")
_EXER = re.compile(r"\d{4}")
_SEPARATORS = str.maketrans({"'": " ", "’": " ", "-": " ", "–": " ", "—": " ", "_": " "})
OBJET_MAX = 99


def refdet_from_reference(reference: str) -> str:
    """The ``refdet`` of an invoice reference: separators dropped (``2018-XX-00-XXXX`` →
    ``2018XX00XXXX``), 6 to 30 letters and digits.

    :raises ValidationFailed: the result is too short or too long (PayFiP answers R3).
    """
    refdet = _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", reference))
    if not _REFDET.fullmatch(refdet):
        raise ValidationFailed.single(
            "refdet_format",
            "La référence de cette facture ne peut pas être payée en ligne "
            "(6 à 30 lettres ou chiffres attendus).",
            "reference",
        )
    return refdet


def objet_from_label(label: str) -> str:
    """The ``objet``: ASCII letters, digits and spaces only, at most 99 characters.

    Accents are stripped (NFKD), apostrophes and dashes become spaces, other symbols are
    dropped and runs of spaces collapse: ``"Cantine d'octobre — Léa (50 %)"`` →
    ``"Cantine d octobre Lea 50"``.
    """
    decomposed = unicodedata.normalize("NFKD", label.translate(_SEPARATORS))
    ascii_only = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == " "))
    collapsed = " ".join(ascii_only.split())
    return collapsed[:OBJET_MAX].rstrip()


def montant_from_amount(amount: Decimal) -> str:
    """``montant``: the amount in integer cents, no separator (``123.12`` → ``"12312"``).

    :raises ValidationFailed: the amount is not positive, has sub-cent digits, or reaches
        10,000 € (refused by PayFiP for online payment).
    """
    try:
        cents = to_cents(amount)
    except ValueError as exc:
        raise ValidationFailed.single(
            "amount_format", "Le montant doit être exprimé en euros et centimes.", "amount"
        ) from exc
    if cents <= 0:
        raise ValidationFailed.single(
            "amount_not_positive", "Il n'y a rien à payer sur cette facture.", "amount"
        )
    if cents > MAX_ONLINE_CENTS:
        raise ValidationFailed.single(
            "amount_too_high",
            "Le paiement en ligne est limité aux montants inférieurs à 10 000 € : "
            "réglez cette facture auprès de la régie.",
            "amount",
        )
    return str(cents)


def amount_from_montant(montant: str) -> Decimal:
    """The euros of a ``montant`` field (digits only), exactly.

    :raises ValueError: ``montant`` is not a plain integer number of cents.
    """
    if not montant.isascii() or not montant.isdigit():
        raise ValueError("montant is not an integer number of cents")
    return from_cents(int(montant))


def check_numcli(numcli: str) -> str:
    """``numcli``: exactly 6 digits, leading zeros kept."""
    if not _NUMCLI.fullmatch(numcli):
        raise ValidationFailed.single(
            "numcli_format", "L'identifiant collectivité doit compter 6 chiffres.", "numcli"
        )
    return numcli


def exer_from_year(year: int) -> str:
    """``exer``: the budget year, 4 digits."""
    exer = str(year)
    if not _EXER.fullmatch(exer):
        raise ValidationFailed.single("exer_format", "Exercice budgétaire invalide.", "exer")
    return exer


def check_mel(mel: str) -> str:
    """``mel``: the payer's e-mail (6 to 80 characters), where DGFiP sends the ticket."""
    mel = mel.strip()
    if not 6 <= len(mel) <= 80 or not is_email_address(mel):
        raise ValidationFailed.single(
            "mel_format",
            "Votre adresse e-mail ne peut pas être transmise au service de paiement "
            "(6 à 80 caractères) : corrigez-la dans « Mon compte ».",
            "mel",
        )
    return mel
