"""Children ("Mes enfants") and what guardians declare about them."""

from __future__ import annotations

from datetime import date

from attrs import define, field, frozen


@define(slots=False, eq=False, kw_only=True)
class Child:
    """A child. A child may belong to two households (separated parents): see :class:`FamilyChild`."""

    id: int | None = None
    first_name: str
    last_name: str
    birth_date: date | None = None
    sex: str = ""
    school: str = ""
    class_level: str = ""
    photo_key: str | None = None
    """Storage key of the re-encoded photo, never a public path."""
    external_id: str | None = None
    version: int = 1

    @property
    def full_name(self) -> str:
        """``Prénom NOM``."""
        return f"{self.first_name} {self.last_name.upper()}".strip()


@define(slots=False, eq=False, kw_only=True)
class FamilyChild:
    """Link between a household and a child; a child has one per household."""

    id: int | None = None
    family_id: int
    child_id: int


@define(slots=False, eq=False, kw_only=True)
class AuthorizedPerson:
    """A person allowed to pick the child up or to be called in an emergency."""

    id: int | None = None
    child_id: int
    family_id: int
    last_name: str
    first_name: str
    relationship: str = ""
    phone: str = ""
    phone_alt: str = ""
    may_pick_up: bool = True
    emergency_contact: bool = False
    version: int = 1


class Diet:
    """Neutral diet options (no religious wording, GDPR art. 9 minimisation)."""

    STANDARD = "standard"
    NO_PORK = "sans_porc"
    NO_MEAT = "sans_viande"
    VEGETARIAN = "vegetarien"
    ALL = (STANDARD, NO_PORK, NO_MEAT, VEGETARIAN)


@define(slots=False, eq=False, kw_only=True)
class ChildDetails:
    """Données complémentaires."""

    id: int | None = None
    child_id: int
    diet: str = Diet.STANDARD
    image_rights: bool = False
    may_leave_alone: bool = False
    insurance_company: str = ""
    insurance_policy: str = ""
    version: int = 1


@frozen
class Vaccination:
    """One vaccination and its date."""

    name: str
    date: date


@define(slots=False, eq=False, kw_only=True)
class HealthRecord:
    """Données sanitaires — special-category data: audited, shown to the family and authorised agents."""

    id: int | None = None
    child_id: int
    doctor_name: str = ""
    doctor_phone: str = ""
    vaccinations: list[Vaccination] = field(factory=list)
    food_allergies: str = ""
    drug_allergies: str = ""
    has_pai: bool = False
    pai_details: str = ""
    treatments: str = ""
    recommendations: str = ""
    version: int = 1
