"""The fields people fill in, and their rules: one definition for every entrance.

A :class:`FieldSpec` names a field, its French label, its kind and constraints; :func:`parse_fields`
checks and converts submitted text against specs, with French messages naming the field. The
profile plugin's forms (``famille_plugins.profile.services.fields``), the API's upserts and the
CSV import (:mod:`famille_core.services.sync`) all check a guardian's values with
:data:`GUARDIAN_FIELDS`, so that each entrance refuses the same values with the same message
(docs/api.md, "One validation for every entrance"). Nothing here touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import frozen

from famille_core.convert import CONTROL_CHARACTERS
from famille_core.errors import Issue
from famille_core.mail import is_email_address
from famille_core.money import CENT

TEXT, TEXTAREA, DATE, EMAIL, PHONE, POSTCODE, MONEY, SHARES, YEAR, BOOL, CHOICE, IBAN, BIC = (
    "text",
    "textarea",
    "date",
    "email",
    "phone",
    "postcode",
    "money",
    "shares",
    "year",
    "bool",
    "choice",
    "iban",
    "bic",
)


@frozen(kw_only=True)
class FieldSpec:
    """One field of a section: its name, French label, kind and constraints."""

    name: str
    label: str
    kind: str = TEXT
    required: bool = False
    max_length: int = 200
    choices: tuple[tuple[str, str], ...] = ()
    autocomplete: str | None = None
    hint: str = ""
    extra: bool = False
    """Added by a collectivity through the ``profile_fields`` hook."""


CIVILITIES = (("", "—"), ("Madame", "Madame"), ("Monsieur", "Monsieur"))


GUARDIAN_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="civility", label="Civilité", kind=CHOICE, choices=CIVILITIES, autocomplete="honorific-prefix"),
    FieldSpec(name="last_name", label="Nom", required=True, max_length=100, autocomplete="family-name"),
    FieldSpec(name="first_name", label="Prénom", required=True, max_length=100, autocomplete="given-name"),
    FieldSpec(name="birth_date", label="Date de naissance", kind=DATE, autocomplete="bday"),
    FieldSpec(name="address", label="Adresse", max_length=300, autocomplete="street-address"),
    FieldSpec(name="postal_code", label="Code postal", kind=POSTCODE, max_length=10, autocomplete="postal-code"),
    FieldSpec(name="city", label="Commune", max_length=100, autocomplete="address-level2"),
    FieldSpec(name="phone_home", label="Téléphone domicile", kind=PHONE, max_length=30, autocomplete="tel"),
    FieldSpec(name="phone_mobile", label="Téléphone portable", kind=PHONE, max_length=30, autocomplete="tel"),
    FieldSpec(name="phone_work", label="Téléphone professionnel", kind=PHONE, max_length=30, autocomplete="tel"),
    FieldSpec(name="email", label="Adresse e-mail", kind=EMAIL, max_length=254, autocomplete="email"),
    FieldSpec(name="profession", label="Profession", max_length=100, autocomplete="organization-title"),
    FieldSpec(name="employer", label="Employeur", max_length=100, autocomplete="organization"),
)
"""A guardian's fields: the responsable's and the conjoint's sections of Mon compte, and the
guardians an ERP sends (:class:`famille_core.services.sync.GuardianRecord`)."""

_PHONE = re.compile(r"^(?:\+\d{8,15}|0\d{9})$")
_POSTCODE = re.compile(r"^(?:\d{5}|)$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
RIB_LETTERS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")


def parse_date(text: str) -> date:
    """``2026-05-12`` (what date inputs send) or ``12/05/2026``; raises ``ValueError``."""
    text = text.strip()
    match = _FRENCH_DATE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        raise ValueError("not a date")
    return date.fromisoformat(text)


def _french_rib_key_ok(compact: str) -> bool:
    """The French RIB key (clé RIB) inside a FR or MC IBAN: a second, independent check."""
    bban = compact[4:]
    bank, branch, account, key = bban[:5], bban[5:10], bban[10:21], bban[21:23]
    account_digits = account.translate(RIB_LETTERS)
    if not (bank.isdigit() and branch.isdigit() and key.isdigit() and account_digits.isdigit()):
        return False
    total = 89 * int(bank) + 15 * int(branch) + 3 * int(account_digits) + int(key)
    return total % 97 == 0


def check_iban(text: str) -> str:
    """The IBAN in compact form, or ``ValueError`` with a French message.

    python-stdnum checks the country's length and BBAN format and the ISO 7064 mod-97 check
    digits; we add that the check digits are digits (stdnum accepts letters there) and, for
    French and Monegasque IBANs, the RIB key.
    """
    # python-stdnum is loaded by the first IBAN checked, not by every page of a web worker.
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError as StdnumError

    compact = stdnum_iban.compact(text)
    if not re.fullmatch(r"[A-Z0-9]+", compact):
        raise ValueError("Un IBAN ne contient que des lettres et des chiffres.")
    try:
        stdnum_iban.validate(compact)
    except StdnumError as exc:
        raise ValueError(
            "Cet IBAN n'est pas valide : vérifiez chaque caractère (pays, clé et numéro de compte)."
        ) from exc
    if not compact[2:4].isdigit() or (compact[:2] in ("FR", "MC") and not _french_rib_key_ok(compact)):
        raise ValueError(
            "Cet IBAN n'est pas valide : vérifiez chaque caractère (pays, clé et numéro de compte)."
        )
    return compact


def _compact_iban(text: str) -> str:
    """The IBAN without spaces, dashes or dots, in capitals (as python-stdnum's ``compact``)."""
    return re.sub(r"[ .\-]", "", text).strip().upper()


def mask_iban(iban: str) -> str:
    """``FR76 **** **** **** **** ***1 234``: country, check digits and the last four characters."""
    compact = _compact_iban(iban or "")
    if len(compact) < 8:
        return "****"
    masked = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def _convert(spec: FieldSpec, raw: str) -> Any:
    """Convert one non-empty, stripped value; ``ValueError`` carries the French message."""
    if spec.kind == DATE:
        try:
            value = parse_date(raw)
        except ValueError as exc:
            raise ValueError("Date invalide : utilisez le format JJ/MM/AAAA.") from exc
        if not date(1900, 1, 1) <= value <= date(2100, 12, 31):
            raise ValueError("Cette date n'est pas plausible.")
        return value
    if spec.kind == EMAIL:
        if not is_email_address(raw):
            raise ValueError("Adresse e-mail invalide (exemple : nom@domaine.fr).")
        return raw
    if spec.kind == PHONE:
        digits = re.sub(r"[\s.\-]", "", raw)
        if not _PHONE.match(digits):
            raise ValueError("Numéro de téléphone invalide : 10 chiffres (ou +33…).")
        return raw
    if spec.kind == POSTCODE:
        if not _POSTCODE.match(raw):
            raise ValueError("Le code postal compte 5 chiffres.")
        return raw
    if spec.kind in (MONEY, SHARES):
        try:
            amount = Decimal(raw.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError("Saisissez un nombre (exemple : 1234,50).") from exc
        if not amount.is_finite() or abs(amount) >= 10**12 or amount != amount.quantize(CENT):
            raise ValueError("Saisissez un nombre avec au plus deux décimales.")
        if spec.kind == MONEY and not Decimal(0) <= amount <= Decimal("10000000"):
            raise ValueError("Le montant doit être compris entre 0 et 10 000 000 €.")
        if spec.kind == SHARES and (not Decimal(1) <= amount <= Decimal(20) or (amount * 4) % 1):
            raise ValueError("Le nombre de parts va de 1 à 20, par quart de part.")
        return amount.quantize(CENT)
    if spec.kind == YEAR:
        if not re.fullmatch(r"\d{4}", raw) or not 2000 <= int(raw) <= 2100:
            raise ValueError("Saisissez une année sur quatre chiffres.")
        return int(raw)
    if spec.kind == CHOICE:
        if raw not in {code for code, _label in spec.choices}:
            raise ValueError("Choisissez une des valeurs proposées.")
        return raw
    if spec.kind == IBAN:
        return check_iban(raw)
    if spec.kind == BIC:
        from stdnum import bic as stdnum_bic

        compact = raw.replace(" ", "").upper()
        if not stdnum_bic.is_valid(compact):
            raise ValueError("BIC invalide (8 ou 11 caractères, exemple : AGRIFRPP).")
        return compact
    return raw


def _empty_value(spec: FieldSpec) -> Any:
    if spec.kind in (TEXT, TEXTAREA, EMAIL, PHONE, POSTCODE, CHOICE, IBAN, BIC):
        return ""
    return None


def parse_fields(
    specs: Sequence[FieldSpec], raw: Mapping[str, str], *, prefix: str = ""
) -> tuple[dict[str, Any], list[Issue]]:
    """Check and convert the values of ``specs`` found in ``raw`` (missing means empty)."""
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for spec in specs:
        key = prefix + spec.name
        text = raw.get(spec.name, "")
        if not isinstance(text, str):
            issues.append(Issue("invalid", f"{spec.label} : valeur invalide.", key))
            continue
        if spec.kind == BOOL:
            values[spec.name] = text.strip().lower() in {"1", "on", "true", "oui", "yes"}
            continue
        text = text.strip()
        if CONTROL_CHARACTERS.search(text) or "\x00" in text:
            issues.append(Issue("control_character", f"{spec.label} : caractères invisibles interdits.", key))
            continue
        if len(text) > spec.max_length:
            issues.append(Issue("too_long", f"{spec.label} : {spec.max_length} caractères au plus.", key))
            continue
        if not text:
            if spec.required:
                issues.append(Issue("required", f"{spec.label} : ce champ est obligatoire.", key))
            else:
                values[spec.name] = _empty_value(spec)
            continue
        try:
            values[spec.name] = _convert(spec, text)
        except ValueError as exc:
            issues.append(Issue("invalid", f"{spec.label} : {exc}", key))
    return values, issues
