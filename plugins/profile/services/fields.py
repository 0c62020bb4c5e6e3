"""Field definitions of the profile sections and their server-side validation.

Every value a person submits goes through :func:`parse_section`: an allow-list of fields per
section (anything else, ``family_id`` included, is refused), each value checked and converted to
its type, French messages naming the field. Nothing here touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import frozen
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from famille_core.convert import CONTROL_CHARACTERS
from famille_core.entities import CafRegime, Diet
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
REGIMES = ((CafRegime.CAF.value, "CAF"), (CafRegime.MSA.value, "MSA"), (CafRegime.OTHER.value, "Autre"))
DIETS = (
    (Diet.STANDARD, "Menu standard"),
    (Diet.NO_PORK, "Sans porc"),
    (Diet.NO_MEAT, "Sans viande"),
    (Diet.VEGETARIAN, "Végétarien"),
)


def _person(*, with_work: bool) -> tuple[FieldSpec, ...]:
    specs = [
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
    ]
    if with_work:
        specs += [
            FieldSpec(name="profession", label="Profession", max_length=100, autocomplete="organization-title"),
            FieldSpec(name="employer", label="Employeur", max_length=100, autocomplete="organization"),
        ]
    return tuple(specs)


SECTION_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "responsable": _person(with_work=True),
    "conjoint": _person(with_work=True),
    "fiscal": (
        FieldSpec(name="year", label="Année des revenus", kind=YEAR, required=True, hint="Par exemple 2025."),
        FieldSpec(name="reference_income", label="Revenu fiscal de référence (en euros)", kind=MONEY, required=True),
        FieldSpec(name="tax_shares", label="Nombre de parts", kind=SHARES, required=True, hint="Par exemple 2,5."),
    ),
    "caf": (
        FieldSpec(name="regime", label="Régime", kind=CHOICE, choices=REGIMES, required=True),
        FieldSpec(name="allocataire_number", label="Numéro d'allocataire", max_length=20),
        FieldSpec(name="quotient", label="Quotient familial CAF (en euros)", kind=MONEY),
    ),
    "banque": (
        FieldSpec(name="holder", label="Titulaire du compte", required=True, max_length=200, autocomplete="name"),
        FieldSpec(name="iban", label="IBAN", kind=IBAN, required=True, max_length=42, hint="27 caractères pour un compte français (FR suivi de 25 chiffres ou lettres) ; les espaces sont permises."),
        FieldSpec(name="bic", label="BIC", kind=BIC, max_length=11),
        FieldSpec(name="mandate_reference", label="Référence unique du mandat SEPA", max_length=35),
        FieldSpec(name="mandate_date", label="Date de signature du mandat", kind=DATE),
    ),
    "autorisations": (
        FieldSpec(name="last_name", label="Nom", required=True, max_length=100),
        FieldSpec(name="first_name", label="Prénom", required=True, max_length=100),
        FieldSpec(name="relationship", label="Lien avec l'enfant", max_length=100, hint="Par exemple grand-mère, voisin."),
        FieldSpec(name="phone", label="Téléphone", kind=PHONE, required=True, max_length=30),
        FieldSpec(name="phone_alt", label="Autre téléphone", kind=PHONE, max_length=30),
        FieldSpec(name="may_pick_up", label="Peut venir chercher l'enfant", kind=BOOL),
        FieldSpec(name="emergency_contact", label="À appeler en cas d'urgence", kind=BOOL),
    ),
    "complementaires": (
        FieldSpec(name="diet", label="Régime alimentaire", kind=CHOICE, choices=DIETS, required=True),
        FieldSpec(name="image_rights", label="J'autorise la prise et la diffusion de photos de l'enfant dans le cadre des activités", kind=BOOL),
        FieldSpec(name="may_leave_alone", label="L'enfant peut repartir seul", kind=BOOL),
        FieldSpec(name="insurance_company", label="Compagnie d'assurance", max_length=200),
        FieldSpec(name="insurance_policy", label="Numéro de contrat d'assurance", max_length=100),
    ),
    "sanitaires": (
        FieldSpec(name="doctor_name", label="Médecin traitant", max_length=200),
        FieldSpec(name="doctor_phone", label="Téléphone du médecin", kind=PHONE, max_length=30),
        FieldSpec(name="food_allergies", label="Allergies alimentaires", kind=TEXTAREA, max_length=2000),
        FieldSpec(name="drug_allergies", label="Allergies médicamenteuses", kind=TEXTAREA, max_length=2000),
        FieldSpec(name="has_pai", label="L'enfant a un projet d'accueil individualisé (PAI)", kind=BOOL),
        FieldSpec(name="pai_details", label="Précisions sur le PAI", kind=TEXTAREA, max_length=2000),
        FieldSpec(name="treatments", label="Traitements en cours", kind=TEXTAREA, max_length=2000),
        FieldSpec(name="recommendations", label="Recommandations des parents", kind=TEXTAREA, max_length=2000, hint="Uniquement ce qui est utile à la prise en charge de l'enfant."),
    ),
}

VACCINATION_ROWS = 12
"""Most vaccination rows a form may send (the form shows the known ones and three empty rows)."""
_VACCINATION_KEY = re.compile(r"^vaccinations\.(\d{1,2})\.(name|date)$")
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


def mask_iban(iban: str) -> str:
    """``FR76 **** **** **** **** ***1 234``: country, check digits and the last four characters."""
    compact = stdnum_iban.compact(iban or "")
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


def parse_vaccinations(raw: Mapping[str, str], today: date, birth_date: date | None) -> tuple[list[tuple[str, date]], list[Issue]]:
    """Rows ``vaccinations.N.name`` / ``vaccinations.N.date``; empty rows are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in raw.items():
        match = _VACCINATION_KEY.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = (value or "").strip()
    result: list[tuple[str, date]] = []
    issues: list[Issue] = []
    for index in sorted(rows):
        name, text = rows[index].get("name", ""), rows[index].get("date", "")
        if not name and not text:
            continue
        base = f"vaccinations.{index}."
        if not name or len(name) > 100 or CONTROL_CHARACTERS.search(name):
            issues.append(Issue("invalid", "Vaccin : indiquez son nom (100 caractères au plus).", base + "name"))
            continue
        try:
            when = parse_date(text)
        except ValueError:
            issues.append(Issue("invalid", f"Date du vaccin {name} : date invalide (JJ/MM/AAAA).", base + "date"))
            continue
        if when > today or (birth_date is not None and when < birth_date):
            issues.append(Issue("out_of_range", f"Date du vaccin {name} : entre la naissance et aujourd'hui.", base + "date"))
            continue
        result.append((name, when))
    return result, issues


def unknown_fields(allowed: set[str], raw: Mapping[str, str], *, vaccinations: bool = False) -> list[Issue]:
    """One issue per submitted key outside the allow-list (``family_id``, ``balance``…)."""
    issues = []
    for key in raw:
        if key in allowed or (vaccinations and _VACCINATION_KEY.match(key) and int(_VACCINATION_KEY.match(key).group(1)) < VACCINATION_ROWS):  # type: ignore[union-attr]
            continue
        shown = key if len(key) <= 40 else key[:40] + "…"
        issues.append(
            Issue("unknown_field", f"Le champ « {shown} » n'existe pas ou ne peut pas être modifié.", None)
        )
    return issues
