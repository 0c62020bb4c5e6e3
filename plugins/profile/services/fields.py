"""Field definitions of the profile sections and their server-side validation.

Every value a person submits goes through :func:`parse_fields`: an allow-list of fields per
section (anything else, ``family_id`` included, is refused), each value checked and converted to
its type, French messages naming the field. The kinds, their rules and a guardian's fields are
the core's (:mod:`famille_core.fields`), shared with the API and the import. Nothing here
touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from famille_core.convert import CONTROL_CHARACTERS
from famille_core.entities import CafRegime, Diet
from famille_core.errors import Issue
from famille_core.fields import (
    BIC,
    BOOL,
    CHOICE,
    CIVILITIES,
    DATE,
    EMAIL,
    GUARDIAN_FIELDS,
    IBAN,
    MONEY,
    PHONE,
    POSTCODE,
    RIB_LETTERS,
    SHARES,
    TEXT,
    TEXTAREA,
    YEAR,
    FieldSpec,
    check_iban,
    mask_iban,
    parse_date,
    parse_fields,
)

__all__ = [
    "BIC",
    "BOOL",
    "CHOICE",
    "CIVILITIES",
    "DATE",
    "EMAIL",
    "IBAN",
    "MONEY",
    "PHONE",
    "POSTCODE",
    "RIB_LETTERS",
    "SECTION_FIELDS",
    "SHARES",
    "TEXT",
    "TEXTAREA",
    "VACCINATION_ROWS",
    "YEAR",
    "FieldSpec",
    "check_iban",
    "form_text",
    "mask_iban",
    "parse_date",
    "parse_fields",
    "parse_vaccinations",
    "unknown_fields",
]

REGIMES = ((CafRegime.CAF.value, "CAF"), (CafRegime.MSA.value, "MSA"), (CafRegime.OTHER.value, "Autre"))
DIETS = (
    (Diet.STANDARD, "Menu standard"),
    (Diet.NO_PORK, "Sans porc"),
    (Diet.NO_MEAT, "Sans viande"),
    (Diet.VEGETARIAN, "Végétarien"),
)


SECTION_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "responsable": GUARDIAN_FIELDS,
    "conjoint": GUARDIAN_FIELDS,
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


def form_text(spec: FieldSpec, value: Any) -> str:
    """A stored value as its form sends it back (``on`` for yes, ISO dates, ``.`` decimals)."""
    if value is None:
        return ""
    if spec.kind == BOOL:
        return "on" if value else ""
    if spec.kind == DATE:
        return str(value.isoformat())
    return str(getattr(value, "value", value))
