"""A section's stored record: loading it, writing values onto it (with the collectivity's extra
fields), and the version check that keeps a change made in another tab from being overwritten."""

from __future__ import annotations

from typing import Any

from famille_core.entities import (
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    CafRegime,
    Child,
    ChildDetails,
    FiscalData,
    Guardian,
    GuardianRole,
    HealthRecord,
    ProfileExtraValue,
)
from famille_core.errors import Conflict, NotFound
from famille_core.portal import Portal
from famille_core.uow import In, UnitOfWork
from famille_plugins.profile.services.sections import section_specs

CONFLICT_MESSAGE = (
    "Cette fiche a été modifiée entre-temps (par une autre personne ou dans un autre onglet) : "
    "rien n'a été enregistré. Rechargez la page pour voir la version actuelle."
)


def load_family_record(uow: UnitOfWork, family_id: int, section: str) -> Any:
    """The stored record of a family section, or ``None``."""
    if section == "responsable":
        return uow.first(Guardian, family_id=family_id, role=GuardianRole.PRIMARY)
    if section == "conjoint":
        return uow.first(Guardian, family_id=family_id, role=GuardianRole.SECOND)
    if section == "fiscal":
        return uow.first(FiscalData, family_id=family_id, order_by=("-year",))
    if section == "caf":
        return uow.first(CafInfo, family_id=family_id)
    if section == "banque":
        return uow.first(BankDetails, family_id=family_id)
    raise KeyError(section)


def load_child_record(uow: UnitOfWork, child: Child, section: str, item_id: int | None = None, family_id: int | None = None) -> Any:
    """The stored record of a child section (an authorised person needs ``item_id``)."""
    if section == "complementaires":
        return uow.first(ChildDetails, child_id=child.id)
    if section == "sanitaires":
        return uow.first(HealthRecord, child_id=child.id)
    if section == "autorisations":
        if item_id is None:
            return None
        person = uow.get(AuthorizedPerson, item_id)
        if person is None or person.child_id != child.id or (family_id is not None and person.family_id != family_id):
            raise NotFound("Personne introuvable.")
        return person
    raise KeyError(section)


def check_version(record: Any, version: str | int | None) -> None:
    """:class:`Conflict` unless ``version`` is the record's current one (``0``: no record yet)."""
    current = record.version if record is not None else 0
    try:
        submitted = int(version) if version not in (None, "") else None
    except (TypeError, ValueError):
        submitted = None
    if submitted != current:
        raise Conflict(CONFLICT_MESSAGE)


def apply_values(
    uow: UnitOfWork,
    family_id: int,
    section: str,
    values: dict[str, Any],
    record: Any,
    *,
    child: Child | None = None,
) -> Any:
    """Write ``values`` onto ``record`` (or a new record); returns the record."""
    stored = {k: v for k, v in values.items() if not k.startswith("extra_")}
    if "regime" in stored:
        stored["regime"] = CafRegime(stored["regime"])
    _store_extras(uow, family_id, child, section, values)
    if section == "fiscal":
        same_year = uow.first(FiscalData, family_id=family_id, year=stored["year"])
        record = same_year
    if record is None:
        record = _new_record(family_id, section, stored, child)
        uow.add(record)
        return record
    for name, value in stored.items():
        setattr(record, name, value)
    return record


def _store_extras(uow: UnitOfWork, family_id: int, child: Child | None, section: str, values: dict[str, Any]) -> None:
    extras = {k.removeprefix("extra_"): v for k, v in values.items() if k.startswith("extra_")}
    if not extras:
        return
    child_id = child.id if child is not None else None
    existing = {
        row.name: row
        for row in uow.find(ProfileExtraValue, family_id=family_id, child_id=child_id, section=section)
    }
    for name, value in extras.items():
        text = "" if value is None else str(value)
        if name in existing:
            existing[name].value = text
        else:
            uow.add(ProfileExtraValue(family_id=family_id, child_id=child_id, section=section, name=name, value=text))


def extra_values(uow: UnitOfWork, family_id: int, child_id: int | None, section: str) -> dict[str, str]:
    """The stored values of the collectivity's extra fields of a section, by form field name."""
    rows = uow.find(ProfileExtraValue, family_id=family_id, child_id=child_id, section=section)
    return {f"extra_{row.name}": row.value for row in rows}


def extras_shown(
    portal: Portal, uow: UnitOfWork, family_id: int, child_id: int | None, sections: tuple[str, ...]
) -> dict[str, list[tuple[str, str]]]:
    """``section -> [(label, value)]`` of the extra fields, for the read-only pages."""
    rows = uow.find(ProfileExtraValue, family_id=family_id, child_id=child_id, section=In(sections))
    stored = {(row.section, f"extra_{row.name}"): row.value for row in rows}
    shown: dict[str, list[tuple[str, str]]] = {}
    for section in sections:
        for spec in section_specs(portal, section):
            if spec.extra:
                shown.setdefault(section, []).append((spec.label, stored.get((section, spec.name), "")))
    return shown


def _new_record(family_id: int, section: str, values: dict[str, Any], child: Child | None) -> Any:
    if section in ("responsable", "conjoint"):
        role = GuardianRole.PRIMARY if section == "responsable" else GuardianRole.SECOND
        return Guardian(family_id=family_id, role=role, **values)
    if section == "fiscal":
        return FiscalData(family_id=family_id, **values)
    if section == "caf":
        return CafInfo(family_id=family_id, **values)
    if section == "banque":
        return BankDetails(family_id=family_id, **values)
    assert child is not None and child.id is not None
    if section == "autorisations":
        return AuthorizedPerson(family_id=family_id, child_id=child.id, **values)
    if section == "complementaires":
        return ChildDetails(child_id=child.id, **values)
    return HealthRecord(child_id=child.id, **values)
