"""A family's change to a section: checked, then applied at once or stored as a change request
that an agent decides (``[plugins.profile] validated_sections``); a sensitive change needs a
recent login and sends a security notice (docs/security.md point 7)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Actor,
    ChangeRequest,
    Child,
    FamilyChild,
    Role,
    User,
    Vaccination,
)
from famille_core.errors import Issue, NotFound, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import child_for, require_recent_login
from famille_core.services.accounts import security_notice
from famille_core.uow import UnitOfWork
from famille_plugins.profile.services import shared
from famille_plugins.profile.services.fields import parse_fields, parse_vaccinations, unknown_fields
from famille_plugins.profile.services.records import (
    apply_values,
    check_version,
    load_child_record,
    load_family_record,
)
from famille_plugins.profile.services.sections import (
    CHILD_SECTIONS,
    SECTION_TITLES,
    SENSITIVE_CHANGES,
    needs_validation,
    require_parent,
    section_specs,
)

PENDING, APPROVED, REFUSED, SUPERSEDED = "pending", "approved", "refused", "superseded"
APPLIED = "applied"


def pending_requests(uow: UnitOfWork, family_id: int) -> list[ChangeRequest]:
    """The household's change requests waiting for an agent, oldest first."""
    return uow.find(ChangeRequest, family_id=family_id, state=PENDING, order_by=("created_at", "id"))


def _validate(
    portal: Portal,
    actor: Actor,
    section: str,
    raw: Mapping[str, str],
    *,
    child: Child | None = None,
) -> dict[str, Any]:
    """Allow-list, per-field checks and the ``validate_profile_change`` hook; raises
    :class:`ValidationFailed` with every issue found."""
    specs = section_specs(portal, section)
    allowed = {spec.name for spec in specs}
    issues = unknown_fields(allowed, raw, vaccinations=section == "sanitaires")
    values, field_issues = parse_fields(specs, raw)
    issues += field_issues
    today = today_in_paris(portal.clock)
    if section == "sanitaires":
        rows, row_issues = parse_vaccinations(raw, today, child.birth_date if child else None)
        issues += row_issues
        values["vaccinations"] = [Vaccination(name, when) for name, when in rows]
    for name in ("birth_date", "mandate_date"):
        if isinstance(values.get(name), date) and values[name] > today:
            label = next(spec.label for spec in specs if spec.name == name)
            issues.append(Issue("future_date", f"{label} : la date ne peut pas être dans le futur.", name))
    if section == "fiscal" and isinstance(values.get("year"), int) and values["year"] > today.year:
        issues.append(Issue("future_year", "Année des revenus : elle ne peut pas être à venir.", "year"))
    if not issues:
        for result in portal.hook.validate_profile_change(
            portal=portal, section=section, changes=dict(values), actor=actor
        ):
            issues.extend(result)
    if issues:
        raise ValidationFailed(issues)
    return values


def _notify_sensitive(portal: Portal, uow: UnitOfWork, actor: Actor, section: str) -> None:
    if section in SENSITIVE_CHANGES and actor.user_id is not None:
        user = uow.get(User, actor.user_id)
        if user is not None:
            security_notice(portal, uow, user, SENSITIVE_CHANGES[section])


@frozen
class Outcome:
    """What happened to a submitted change: ``applied`` or ``pending`` (waits for an agent)."""

    state: str
    record: Any = None
    request: ChangeRequest | None = None


def update_section(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    section: str,
    raw: Mapping[str, str],
    version: str | int | None,
    *,
    child_id: int | None = None,
    item_id: int | None = None,
    by_erp: bool = False,
) -> Outcome:
    """Save a section of Mon compte or of a child's record, or ask an agent to validate it.

    :param raw: the submitted form fields (strings), without the CSRF token and version.
    :param version: the version of the record the form was built from (``0`` for a new one).
    :param by_erp: the household's ERP writes through the API (:mod:`.erp`): no login to be
        recent, the same rules and section policy otherwise.
    :raises ValidationFailed: a field is unknown, not writable or invalid (nothing changed).
    :raises Conflict: the record changed since the form was shown.
    :raises NotFound: another household's child or authorised person.
    """
    if section not in SECTION_TITLES:
        raise ValidationFailed.single("unknown_section", "Rubrique inconnue.")
    family_id = require_parent(actor)
    child = None
    if section in CHILD_SECTIONS:
        if child_id is None:
            raise ValidationFailed.single("child_required", "Choisissez l'enfant.")
        child = child_for(uow, actor, child_id)
        record = load_child_record(uow, child, section, item_id, family_id)
    else:
        record = load_family_record(uow, family_id, section)
    if section in SENSITIVE_CHANGES and not by_erp:
        require_recent_login(portal, actor)
    values = _validate(portal, actor, section, raw, child=child)
    check_version(record, version)
    _notify_sensitive(portal, uow, actor, section)
    if needs_validation(portal, section):
        request = _request_change(portal, uow, actor, family_id, section, raw, values, child, item_id, "edit")
        return Outcome(PENDING, record, request)
    before = getattr(record, "version", None)
    record = apply_values(uow, family_id, section, values, record, child=child)
    uow.flush()
    if child is not None and getattr(record, "version", None) != before:
        shared.tell_other_households(portal, uow, family_id, child, section)
        uow.flush()
    return Outcome(APPLIED, record)


def remove_authorized_person(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    person_id: int,
    version: str | int | None,
) -> Outcome:
    """Remove an authorised person (a sensitive change: recent login and notice)."""
    family_id = require_parent(actor)
    child = child_for(uow, actor, child_id)
    person = load_child_record(uow, child, "autorisations", person_id, family_id)
    require_recent_login(portal, actor)
    check_version(person, version)
    _notify_sensitive(portal, uow, actor, "autorisations")
    if needs_validation(portal, "autorisations"):
        request = _request_change(portal, uow, actor, family_id, "autorisations", {}, {}, child, person_id, "remove")
        return Outcome(PENDING, person, request)
    uow.delete(person)
    uow.flush()
    return Outcome(APPLIED)


def _request_change(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    family_id: int,
    section: str,
    raw: Mapping[str, str],
    values: dict[str, Any],
    child: Child | None,
    item_id: int | None,
    action: str,
) -> ChangeRequest:
    """Store a change request; a newer request for the same record replaces a pending one."""
    target_id = child.id if child is not None else None
    for previous in uow.find(ChangeRequest, family_id=family_id, section=section, state=PENDING, target_id=target_id):
        if (previous.payload.get("item_id") == item_id and item_id is not None) or (
            item_id is None and previous.payload.get("item_id") is None and action == "edit" and section != "autorisations"
        ):
            previous.state = SUPERSEDED
            previous.decided_at = portal.clock.now()
    allowed = {spec.name for spec in section_specs(portal, section)}
    kept = {k: v for k, v in raw.items() if k in allowed or k.startswith("vaccinations.")}
    request = ChangeRequest(
        family_id=family_id,
        section=section,
        target_id=target_id,
        payload={"values": kept, "item_id": item_id, "action": action},
        state=PENDING,
        created_at=portal.clock.now(),
        created_by=actor.user_id,
    )
    uow.add(request)
    uow.flush()
    return request


def apply_request(portal: Portal, uow: UnitOfWork, actor: Actor, request: ChangeRequest) -> Any:
    """Apply an approved change request: its values are checked again against today's rules."""
    payload = request.payload
    child = None
    if request.section in CHILD_SECTIONS:
        child = uow.get(Child, request.target_id) if request.target_id is not None else None
        if child is None or uow.first(FamilyChild, family_id=request.family_id, child_id=child.id) is None:
            raise NotFound("Enfant introuvable.")
        record = load_child_record(uow, child, request.section, payload.get("item_id"), request.family_id)
    else:
        record = load_family_record(uow, request.family_id, request.section)
    if payload.get("action") == "remove":
        uow.delete(record)
        return record
    family_actor = Actor(user_id=request.created_by, role=Role.PARENT, family_id=request.family_id)
    values = _validate(portal, family_actor, request.section, payload.get("values", {}), child=child)
    before = getattr(record, "version", None)
    record = apply_values(uow, request.family_id, request.section, values, record, child=child)
    uow.flush()
    if child is not None and getattr(record, "version", None) != before:
        shared.tell_other_households(portal, uow, request.family_id, child, request.section)
    return record
