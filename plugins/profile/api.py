"""The profile's operations of the JSON API (``/api/v1``): every record a parent edits, for the
ERP (docs/api.md, "The households' records").

The answers' classes are made from the sections' field definitions
(:data:`~famille_plugins.profile.services.fields.SECTION_FIELDS`), the ones the forms are built
and checked with: one source of truth for names and types. Bank details are masked under
``families:read``; ``bank:read`` reads them whole and ``health:read`` the health records, each
read audited; ``photos:read`` the photos that a child's record links to.
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
from attrs import frozen

from famille_core.entities import (
    BankDetails,
    Child,
    Family,
    HealthRecord,
    Scope,
)
from famille_plugins.profile.services import erp, photos
from famille_plugins.profile.services.fields import (
    BOOL,
    DATE,
    MONEY,
    SECTION_FIELDS,
    SHARES,
    YEAR,
    mask_iban,
)
from host_flask import toolkit as tk

_TYPES: dict[str, Any] = {DATE: date | None, MONEY: Decimal | None, SHARES: Decimal | None, YEAR: int | None, BOOL: bool}


def section_class(name: str, section: str, doc: str, **more: Any) -> type:
    """An answer class with one attribute per field of ``section`` (its form's names and
    types), then ``more`` (``name=type``) and the collectivity's ``extra`` fields."""
    fields = {spec.name: attrs.field(type=_TYPES.get(spec.kind, str)) for spec in SECTION_FIELDS[section]}
    fields |= {key: attrs.field(type=tp) for key, tp in more.items()}
    fields["extra"] = attrs.field(type=dict[str, str], factory=dict)
    cls = attrs.make_class(name, fields, frozen=True, kw_only=True)
    cls.__doc__ = doc
    return cls


def _values(cls: type, record: Any, **more: Any) -> Any:
    """``record``'s values as ``cls`` (enumerations as their codes)."""
    values = {}
    for attribute in attrs.fields(cls):
        if attribute.name in more or attribute.name == "extra":
            continue
        value = getattr(record, attribute.name)
        values[attribute.name] = getattr(value, "value", value)
    return cls(**values, **more)


GuardianRecordOut = section_class("GuardianRecordOut", "responsable", "A guardian (responsable or conjoint).", version=int)
FiscalOut = section_class(
    "FiscalOut", "fiscal", "Tax data of the latest year and the quotient computed from it.", quotient=Decimal, version=int
)
CafOut = section_class("CafOut", "caf", "C.A.F. data.", version=int)
MaskedBankOut = section_class("MaskedBankOut", "banque", "Bank details, the IBAN masked.", version=int)
BankOut = section_class("BankOut", "banque", "Bank details in full (scope bank:read).", id=int, family_id=int, version=int)
DetailsOut = section_class("DetailsOut", "complementaires", "A child's complementary data.", version=int)
PersonOut = section_class(
    "PersonOut", "autorisations", "A person authorised by a household.", id=int, family_id=int, version=int
)
HealthOut = section_class(
    "HealthOut",
    "sanitaires",
    "A child's health record (scope health:read).",
    id=int,
    child_id=int,
    vaccinations=list[dict[str, str]],
    version=int,
)


@frozen(kw_only=True)
class HouseholdOut:
    """The records of Mon compte of a household (``null``: never filled in)."""

    family_id: int
    external_id: str | None
    responsable: GuardianRecordOut | None  # type: ignore[valid-type]
    conjoint: GuardianRecordOut | None  # type: ignore[valid-type]
    fiscal: FiscalOut | None  # type: ignore[valid-type]
    caf: CafOut | None  # type: ignore[valid-type]
    bank: MaskedBankOut | None  # type: ignore[valid-type]


@frozen(kw_only=True)
class ChildRecordOut:
    """A child's records: complementary data, authorised persons, the link to its photo."""

    child_id: int
    external_id: str | None
    families: list[int]
    details: DetailsOut | None  # type: ignore[valid-type]
    authorized_persons: list[PersonOut]  # type: ignore[valid-type]
    has_health_record: bool
    photo: str | None
    """``/api/v1/photos?child_id=…`` (scope photos:read), ``null`` without a photo."""


@frozen(kw_only=True)
class PhotoOut:
    """A child's photo (JPEG, base64)."""

    child_id: int
    content_type: str
    data: str


CHILD_FILTER = (
    tk.QueryParam(name="child_id", schema={"type": "integer", "minimum": 1, "maximum": 2_147_483_647}, description="Un seul enfant."),
)


def _guardian(guardian: Any, extra: dict[str, dict[str, str]], section: str) -> Any:
    if guardian is None:
        return None
    return _values(GuardianRecordOut, guardian, version=guardian.version, extra=extra.get(section, {}))


def _household(family: Family, records: erp.HouseholdRecords) -> HouseholdOut:
    fiscal, caf, bank = records.fiscal, records.caf, records.bank
    return HouseholdOut(
        family_id=records.family_id,
        external_id=family.external_id,
        responsable=_guardian(records.responsable, records.extra, "responsable"),
        conjoint=_guardian(records.conjoint, records.extra, "conjoint"),
        fiscal=None
        if fiscal is None
        else _values(FiscalOut, fiscal, quotient=fiscal.quotient, version=fiscal.version, extra=records.extra.get("fiscal", {})),
        caf=None if caf is None else _values(CafOut, caf, version=caf.version, extra=records.extra.get("caf", {})),
        bank=None
        if bank is None
        else _values(MaskedBankOut, bank, iban=mask_iban(bank.iban), version=bank.version),
    )


@tk.api_operation(
    "GET",
    "/households",
    summary="Fiches des familles : responsables, adresse, téléphones, données fiscales et quotient, C.A.F., banque masquée (paginé)",
    scope=Scope.FAMILIES_READ,
    response=tk.page_of(HouseholdOut),
    params=tk.PAGE_PARAMS + tk.FAMILY_FILTER + tk.EXTERNAL_FILTER,
)
def list_households() -> Any:
    uow = tk.request_uow()
    criteria = tk.query_filters(family_id="int", external_id="str")
    if "family_id" in criteria:
        criteria["id"] = criteria.pop("family_id")
    families, page = tk.paginate(uow, Family, **criteria)
    records = erp.household_records(uow, [f.id for f in families if f.id is not None])
    items = [_household(family, record) for family, record in zip(families, records, strict=True)]
    return tk.page_of(HouseholdOut)(items=items, **page)


@tk.api_operation(
    "GET",
    "/bank-details",
    summary="Coordonnées bancaires complètes (chaque lecture est tracée) (paginé)",
    scope=Scope.BANK_READ,
    response=tk.page_of(BankOut),
    params=tk.PAGE_PARAMS + tk.FAMILY_FILTER,
)
def list_bank_details() -> Any:
    uow = tk.request_uow()
    rows, page = tk.paginate(uow, BankDetails, **tk.query_filters(family_id="int"))
    read = erp.bank_details_read(tk.get_portal(), uow, tk.current_client(), rows)
    items = [_values(BankOut, row) for row in read]
    return tk.page_of(BankOut)(items=items, **page)


def _photo_link(child: Child) -> str | None:
    return f"/api/v1/photos?child_id={child.id}" if child.photo_key else None


@tk.api_operation(
    "GET",
    "/child-records",
    summary="Fiches des enfants : données complémentaires, personnes autorisées, lien vers la photo (paginé)",
    scope=Scope.FAMILIES_READ,
    response=tk.page_of(ChildRecordOut),
    params=tk.PAGE_PARAMS + CHILD_FILTER,
)
def list_child_records() -> Any:
    uow = tk.request_uow()
    criteria = tk.query_filters(child_id="int")
    if "child_id" in criteria:
        criteria["id"] = criteria.pop("child_id")
    children, page = tk.paginate(uow, Child, **criteria)
    records = erp.child_records(uow, children)
    with_health = erp.children_with_health_record(uow, [c.id for c in children if c.id is not None])
    items = [
        ChildRecordOut(
            child_id=r.child.id or 0,
            external_id=r.child.external_id,
            families=r.families,
            details=None
            if r.details is None
            else _values(DetailsOut, r.details, version=r.details.version, extra=r.extra.get("complementaires", {})),
            authorized_persons=[_values(PersonOut, p) for p in r.persons],
            has_health_record=r.child.id in with_health,
            photo=_photo_link(r.child),
        )
        for r in records
    ]
    return tk.page_of(ChildRecordOut)(items=items, **page)


@tk.api_operation(
    "GET",
    "/health-records",
    summary="Données sanitaires des enfants (chaque lecture est tracée) (paginé)",
    scope=Scope.HEALTH_READ,
    response=tk.page_of(HealthOut),
    params=tk.PAGE_PARAMS + CHILD_FILTER,
)
def list_health_records() -> Any:
    uow = tk.request_uow()
    rows, page = tk.paginate(uow, HealthRecord, **tk.query_filters(child_id="int"))
    read = erp.health_records_read(tk.get_portal(), uow, tk.current_client(), rows)
    items = [
        _values(
            HealthOut,
            row,
            vaccinations=[{"name": v.name, "date": v.date.isoformat()} for v in row.vaccinations],
            extra=extra,
        )
        for row, extra in read
    ]
    return tk.page_of(HealthOut)(items=items, **page)


@tk.api_operation(
    "GET",
    "/photos",
    summary="La photo d'un enfant (JPEG en base64)",
    scope=Scope.PHOTOS_READ,
    response=PhotoOut,
    params=(attrs.evolve(CHILD_FILTER[0], required=True),),
    problems=((404, "Enfant inconnu ou sans photo"),),
)
def get_photo() -> Any:
    child_id = tk.query_filters(child_id="int").get("child_id")
    if child_id is None:
        raise tk.ApiError(
            400,
            "parametre-invalide",
            "Paramètre invalide",
            "« child_id » est obligatoire.",
            [tk.FieldError(field="child_id", code="required", message="Ce champ est obligatoire.")],
        )
    data = photos.photo_for_erp(tk.get_portal(), tk.request_uow(), child_id)
    return PhotoOut(child_id=child_id, content_type="image/jpeg", data=base64.b64encode(data).decode("ascii"))


@frozen(kw_only=True)
class ProfileChangeIn:
    """A change of one section of a household's records, as the portal's form would send it:
    ``values`` maps the section's field names (those of ``GET /households`` and
    ``GET /child-records``) to text; the fields not given keep their values."""

    family_id: int
    section: str
    """``responsable``, ``conjoint``, ``fiscal``, ``caf``, ``complementaires`` or ``autorisations``."""
    version: int
    """The record's ``version`` as you read it (``0`` for a record that does not exist yet)."""
    values: dict[str, str]
    child_id: int | None = None
    """For ``complementaires`` and ``autorisations``."""
    item_id: int | None = None
    """The authorised person changed (``null`` adds one)."""


@frozen(kw_only=True)
class ProfileChangeOut:
    """``applied`` at once, or ``pending``: a change request waits for an agent."""

    state: str
    request_id: int | None
    version: int | None
    """The record's new version once applied."""


@tk.api_operation(
    "POST",
    "/profile-changes",
    summary="Modifie une rubrique d'une famille : appliquée tout de suite ou soumise à un agent, comme dans le portail",
    scope=Scope.FAMILIES_WRITE,
    request_body=ProfileChangeIn,
    response=ProfileChangeOut,
    problems=((404, "Famille, enfant ou personne inconnus"), (409, "La fiche a changé depuis sa lecture (version)")),
)
def change_profile() -> Any:
    change = tk.body_as(ProfileChangeIn)
    outcome = erp.erp_change(
        tk.get_portal(),
        tk.request_uow(),
        change.family_id,
        change.section,
        change.values,
        change.version,
        child_id=change.child_id,
        item_id=change.item_id,
    )
    tk.request_uow().flush()
    request = outcome.request
    return ProfileChangeOut(
        state=outcome.state,
        request_id=request.id if request is not None else None,
        version=getattr(outcome.record, "version", None) if request is None else None,
    )


OPERATIONS = (list_households, list_bank_details, list_child_records, list_health_records, get_photo, change_profile)
"""The profile's operations, contributed through ``api_operations``."""
