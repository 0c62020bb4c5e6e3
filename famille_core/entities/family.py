"""The household (famille / foyer) and what it declares about itself ("Mon compte")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from attrs import define


class GuardianRole(StrEnum):
    """Place of a guardian in the household."""

    PRIMARY = "responsable"
    SECOND = "conjoint"


@define(slots=False, eq=False, kw_only=True)
class Family:
    """A household (foyer). ``family_number`` is the "Famille n°" printed on invoices."""

    id: int | None = None
    family_number: str
    name: str
    external_id: str | None = None
    """The ERP's identifier, for imports that upsert."""
    created_at: datetime | None = None
    version: int = 1


@define(slots=False, eq=False, kw_only=True)
class Guardian:
    """A legal guardian: the responsable or the conjoint."""

    id: int | None = None
    family_id: int
    role: GuardianRole = GuardianRole.PRIMARY
    civility: str = ""
    last_name: str
    first_name: str
    birth_date: date | None = None
    address: str = ""
    postal_code: str = ""
    city: str = ""
    phone_home: str = ""
    phone_mobile: str = ""
    phone_work: str = ""
    email: str = ""
    profession: str = ""
    employer: str = ""
    version: int = 1

    @property
    def full_name(self) -> str:
        """``Prénom NOM``."""
        return f"{self.first_name} {self.last_name.upper()}".strip()


@define(slots=False, eq=False, kw_only=True)
class FiscalData:
    """Données fiscales: reference tax income (RFR) and number of tax shares."""

    id: int | None = None
    family_id: int
    year: int
    reference_income: Decimal
    tax_shares: Decimal
    version: int = 1

    @property
    def quotient(self) -> Decimal:
        """Municipal family quotient: RFR / 12 / parts, to the cent."""
        if self.tax_shares <= 0:
            return Decimal("0.00")
        return (self.reference_income / 12 / self.tax_shares).quantize(Decimal("0.01"))


class CafRegime(StrEnum):
    """Family-benefit scheme."""

    CAF = "CAF"
    MSA = "MSA"
    OTHER = "AUTRE"


@define(slots=False, eq=False, kw_only=True)
class CafInfo:
    """C.A.F. data: scheme, allocataire number, CAF quotient."""

    id: int | None = None
    family_id: int
    regime: CafRegime = CafRegime.CAF
    allocataire_number: str = ""
    quotient: Decimal | None = None
    valid_from: date | None = None
    version: int = 1


@define(slots=False, eq=False, kw_only=True)
class BankDetails:
    """Coordonnées bancaires and SEPA mandate. The IBAN is only ever displayed masked."""

    id: int | None = None
    family_id: int
    holder: str
    iban: str
    bic: str = ""
    mandate_reference: str = ""
    mandate_date: date | None = None
    version: int = 1


@define(slots=False, eq=False, kw_only=True)
class ProfileExtraValue:
    """The value of a field a collectivity added to a profile section through the
    ``profile_fields`` hook (``child_id`` set for a child's sections)."""

    id: int | None = None
    family_id: int
    child_id: int | None = None
    section: str
    name: str
    value: str = ""
