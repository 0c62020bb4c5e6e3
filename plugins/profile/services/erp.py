"""What an ERP reads of the records a parent edits (``/api/v1``, docs/api.md "The households'
records"): the households' sections and the children's, loaded a page at a time in a constant
number of queries.

An ERP client acts for the portal (:meth:`Actor.system`); the host has checked its scope. The
bank details it reads unmasked and the health records are special data: each record read is
audited with the client's id (docs/security.md point 25), in the reading transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from famille_core.entities import (
    Actor,
    ApiClient,
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    Child,
    ChildDetails,
    Family,
    FamilyChild,
    FiscalData,
    Guardian,
    GuardianRole,
    HealthRecord,
    ProfileExtraValue,
    Role,
)
from famille_core.errors import NotFound, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import child_for
from famille_core.services.audit import audit
from famille_core.uow import In, UnitOfWork
from famille_plugins.profile.services import changes
from famille_plugins.profile.services.fields import form_text
from famille_plugins.profile.services.records import (
    extra_values,
    load_child_record,
    load_family_record,
)
from famille_plugins.profile.services.sections import CHILD_SECTIONS, section_specs


@frozen
class HouseholdRecords:
    """A household's sections of Mon compte (``None``: never filled in)."""

    family_id: int
    responsable: Guardian | None
    conjoint: Guardian | None
    fiscal: FiscalData | None
    caf: CafInfo | None
    bank: BankDetails | None
    extra: dict[str, dict[str, str]]
    """``section -> {field: text}``: the collectivity's extra fields (``profile_fields``)."""


@frozen
class ChildRecords:
    """A child's sections (the health record is read on its own, with its scope)."""

    child: Child
    families: list[int]
    details: ChildDetails | None
    persons: list[AuthorizedPerson]
    extra: dict[str, dict[str, str]]


def _extras(rows: Sequence[ProfileExtraValue], *, sections: Sequence[str]) -> dict[str, dict[str, str]]:
    shown: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.section in sections:
            shown.setdefault(row.section, {})[row.name] = row.value
    return shown


def household_records(uow: UnitOfWork, family_ids: Sequence[int]) -> list[HouseholdRecords]:
    """The sections of ``family_ids`` (the IBAN as stored: the caller masks it); one query
    per kind of record. The latest year of tax data is the household's current one."""
    if not family_ids:
        return []
    ids = In(list(family_ids))
    guardians = uow.find(Guardian, family_id=ids)
    fiscal: dict[int, FiscalData] = {}
    for row in uow.find(FiscalData, family_id=ids, order_by=("year",)):
        fiscal[row.family_id] = row
    caf = {row.family_id: row for row in uow.find(CafInfo, family_id=ids)}
    bank = {row.family_id: row for row in uow.find(BankDetails, family_id=ids)}
    extras = uow.find(ProfileExtraValue, family_id=ids, child_id=None, order_by=("id",))
    result = []
    for family_id in family_ids:
        mine = [g for g in guardians if g.family_id == family_id]
        result.append(
            HouseholdRecords(
                family_id=family_id,
                responsable=next((g for g in mine if g.role == GuardianRole.PRIMARY), None),
                conjoint=next((g for g in mine if g.role == GuardianRole.SECOND), None),
                fiscal=fiscal.get(family_id),
                caf=caf.get(family_id),
                bank=bank.get(family_id),
                extra=_extras(
                    [x for x in extras if x.family_id == family_id],
                    sections=("responsable", "conjoint", "fiscal", "caf"),
                ),
            )
        )
    return result


def child_records(uow: UnitOfWork, children: Sequence[Child]) -> list[ChildRecords]:
    """The children's complementary data, authorised persons (of every household, each with
    its ``family_id``) and extra fields; one query per kind of record."""
    ids = [child.id for child in children if child.id is not None]
    if not ids:
        return []
    links = uow.find(FamilyChild, child_id=In(ids))
    details = {row.child_id: row for row in uow.find(ChildDetails, child_id=In(ids))}
    persons = uow.find(AuthorizedPerson, child_id=In(ids), order_by=("last_name", "id"))
    extras = uow.find(ProfileExtraValue, child_id=In(ids), order_by=("id",))
    return [
        ChildRecords(
            child=child,
            families=sorted(link.family_id for link in links if link.child_id == child.id),
            details=details.get(child.id or 0),
            persons=[p for p in persons if p.child_id == child.id],
            extra=_extras([x for x in extras if x.child_id == child.id], sections=("complementaires",)),
        )
        for child in children
    ]


def bank_details_read(
    portal: Portal, uow: UnitOfWork, client: ApiClient, rows: Sequence[BankDetails]
) -> list[BankDetails]:
    """``rows`` for ``client`` (scope ``bank:read``), each read audited."""
    for row in rows:
        audit(portal, uow, Actor.system(), "read", "bank_details", row.id, row.family_id, api_client_id=client.id)
    return list(rows)


def health_records_read(
    portal: Portal, uow: UnitOfWork, client: ApiClient, rows: Sequence[HealthRecord]
) -> list[tuple[HealthRecord, dict[str, str]]]:
    """``rows`` for ``client`` (scope ``health:read``) with their extra fields, each read
    audited."""
    ids = [row.child_id for row in rows]
    extras = (
        uow.find(ProfileExtraValue, child_id=In(ids), section="sanitaires", order_by=("id",)) if ids else []
    )
    result = []
    for row in rows:
        audit(portal, uow, Actor.system(), "read", "health_record", row.id, None, api_client_id=client.id)
        result.append((row, {x.name: x.value for x in extras if x.child_id == row.child_id}))
    return result


def children_with_health_record(uow: UnitOfWork, child_ids: Sequence[int]) -> set[int]:
    """Which of ``child_ids`` have a health record (readable with ``health:read``)."""
    if not child_ids:
        return set()
    return {row.child_id for row in uow.find(HealthRecord, child_id=In(list(child_ids)))}


MAX_ID = 2_147_483_647
"""The largest identifier a record may have (the database's integer)."""

ERP_WRITABLE = ("responsable", "conjoint", "fiscal", "caf", "autorisations", "complementaires")
"""The sections an ERP may change; the bank details and the health record are the family's to
write (docs/api.md, "Writing the records")."""


def erp_change(
    portal: Portal,
    uow: UnitOfWork,
    family_id: int,
    section: str,
    values: Mapping[str, str],
    version: int,
    *,
    child_id: int | None = None,
    item_id: int | None = None,
) -> changes.Outcome:
    """Change a section of household ``family_id`` for its ERP: the fields given replace the
    stored ones, the others are kept; then the section's rules and policy apply as in the portal
    (applied at once, or a change request an agent decides).

    :raises ValidationFailed: a section the ERP may not write, or a value the form would refuse.
    :raises NotFound: an unknown household, or a child or person not of this household.
    :raises Conflict: ``version`` is not the record's current one.
    """
    if section not in ERP_WRITABLE:
        raise ValidationFailed.single(
            "section_not_writable",
            "Cette rubrique ne se modifie que dans le portail, par la famille.",
            "section",
        )
    if any(not 0 < ident <= MAX_ID for ident in (family_id, child_id or 1, item_id or 1)):
        raise NotFound("Famille, enfant ou personne introuvable.")  # no such row can exist
    if uow.get(Family, family_id) is None:
        raise NotFound("Famille introuvable.")
    household = Actor(user_id=None, role=Role.PARENT, family_id=family_id)
    if section in CHILD_SECTIONS:
        if child_id is None:
            raise ValidationFailed.single("child_required", "Choisissez l'enfant.", "child_id")
        record = load_child_record(uow, child_for(uow, household, child_id), section, item_id, family_id)
    else:
        record = load_family_record(uow, family_id, section)
    specs = section_specs(portal, section)
    stored = {spec.name: form_text(spec, getattr(record, spec.name, None)) for spec in specs if record is not None}
    stored |= extra_values(uow, family_id, child_id if section in CHILD_SECTIONS else None, section)
    return changes.update_section(
        portal, uow, household, section, {**stored, **values}, version, child_id=child_id, item_id=item_id, by_erp=True
    )
