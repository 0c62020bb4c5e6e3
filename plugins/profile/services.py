"""Use cases of the profile plugin: Mon compte, Mes enfants, change requests, export.

Services own the rules and the access checks; the web views only parse the request, call these
functions, commit and render. A change is either applied at once or stored as a
:class:`~famille_core.entities.ChangeRequest` that an agent validates, depending on
``[plugins.profile] validated_sections``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Actor,
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    CafRegime,
    ChangeRequest,
    Child,
    ChildDetails,
    FamilyChild,
    FiscalData,
    Guardian,
    GuardianRole,
    HealthRecord,
    ProfileExtraValue,
    Role,
    User,
    Vaccination,
)
from famille_core.errors import Conflict, Issue, NotFound, PermissionDenied, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import child_for, require_family, require_recent_login
from famille_core.services.accounts import security_notice
from famille_core.services.audit import audit
from famille_core.uow import In, UnitOfWork
from famille_plugins.profile import shared
from famille_plugins.profile.fields import (
    SECTION_FIELDS,
    FieldSpec,
    parse_fields,
    parse_vaccinations,
    unknown_fields,
)
from famille_plugins.profile.settings import settings_of

PENDING, APPROVED, REFUSED, SUPERSEDED = "pending", "approved", "refused", "superseded"
APPLIED = "applied"

SECTION_TITLES = {
    "responsable": "Responsable",
    "conjoint": "Conjoint",
    "fiscal": "Données fiscales",
    "caf": "C.A.F.",
    "banque": "Coordonnées bancaires",
    "autorisations": "Autorisations",
    "complementaires": "Données complémentaires",
    "sanitaires": "Données sanitaires",
}
CHILD_SECTIONS = ("autorisations", "complementaires", "sanitaires")
FAMILY_SECTIONS = ("responsable", "conjoint", "fiscal", "caf", "banque")
SENSITIVE_CHANGES = {
    "banque": "vos coordonnées bancaires ont été modifiées (ou une modification a été demandée)",
    "autorisations": "la liste des personnes autorisées auprès d'un enfant a été modifiée",
}
"""Sections whose change needs a recent login and sends a security notice (docs/security.md point 7)."""
AUDITED = {"fiscal": "fiscal_data", "banque": "bank_details", "sanitaires": "health_record"}
"""Special data: every agent read or change is audited (docs/security.md point 25)."""
CONFLICT_MESSAGE = (
    "Cette fiche a été modifiée entre-temps (par une autre personne ou dans un autre onglet) : "
    "rien n'a été enregistré. Rechargez la page pour voir la version actuelle."
)


def needs_validation(portal: Portal, section: str) -> bool:
    """True when changes to ``section`` wait for an agent."""
    return section in settings_of(portal).validated_sections


def may_read_sensitive(portal: Portal, actor: Actor) -> bool:
    """Families read their own data; agents only when their service needs it."""
    if not actor.is_agent:
        return True
    services = settings_of(portal).sensitive_data_services
    return actor.role == Role.ADMIN or not services or actor.service in services


def section_specs(portal: Portal, section: str) -> tuple[FieldSpec, ...]:
    """The fields of ``section``: the built-in ones plus those of the ``profile_fields`` hook.

    Extra fields (named ``extra_<name>`` in forms) are checked like the others, offered to the
    ``validate_profile_change`` hook and stored as text in ``profile_extra_value``. Authorised
    persons, a list, take no extra fields.
    """
    if section == "autorisations":
        return SECTION_FIELDS[section]
    extra = [
        FieldSpec(name=f"extra_{f.name}", label=f.label, required=f.required, hint=f.help_text, extra=True)
        for result in portal.hook.profile_fields(portal=portal, section=section)
        for f in result
    ]
    return SECTION_FIELDS[section] + tuple(extra)


# --------------------------------------------------------------------------- loading


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


def pending_requests(uow: UnitOfWork, family_id: int) -> list[ChangeRequest]:
    """The household's change requests waiting for an agent, oldest first."""
    return uow.find(ChangeRequest, family_id=family_id, state=PENDING, order_by=("created_at", "id"))


# --------------------------------------------------------------------------- validation


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


def _check_version(record: Any, version: str | int | None) -> None:
    current = record.version if record is not None else 0
    try:
        submitted = int(version) if version not in (None, "") else None
    except (TypeError, ValueError):
        submitted = None
    if submitted != current:
        raise Conflict(CONFLICT_MESSAGE)


def _require_parent(actor: Actor) -> int:
    if actor.is_agent:
        raise PermissionDenied("Les agents valident les demandes ; ils ne modifient pas les fiches.")
    return require_family(actor)


def _notify_sensitive(portal: Portal, uow: UnitOfWork, actor: Actor, section: str) -> None:
    if section in SENSITIVE_CHANGES and actor.user_id is not None:
        user = uow.get(User, actor.user_id)
        if user is not None:
            security_notice(portal, uow, user, SENSITIVE_CHANGES[section])


# --------------------------------------------------------------------------- applying


def _apply(
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
) -> Outcome:
    """Save a section of Mon compte or of a child's record, or ask an agent to validate it.

    :param raw: the submitted form fields (strings), without the CSRF token and version.
    :param version: the version of the record the form was built from (``0`` for a new one).
    :raises ValidationFailed: a field is unknown, not writable or invalid (nothing changed).
    :raises Conflict: the record changed since the form was shown.
    :raises NotFound: another household's child or authorised person.
    """
    if section not in SECTION_TITLES:
        raise ValidationFailed.single("unknown_section", "Rubrique inconnue.")
    family_id = _require_parent(actor)
    child = None
    if section in CHILD_SECTIONS:
        if child_id is None:
            raise ValidationFailed.single("child_required", "Choisissez l'enfant.")
        child = child_for(uow, actor, child_id)
        record = load_child_record(uow, child, section, item_id, family_id)
    else:
        record = load_family_record(uow, family_id, section)
    if section in SENSITIVE_CHANGES:
        require_recent_login(portal, actor)
    values = _validate(portal, actor, section, raw, child=child)
    _check_version(record, version)
    _notify_sensitive(portal, uow, actor, section)
    if needs_validation(portal, section):
        request = _request_change(portal, uow, actor, family_id, section, raw, values, child, item_id, "edit")
        return Outcome(PENDING, record, request)
    before = getattr(record, "version", None)
    record = _apply(uow, family_id, section, values, record, child=child)
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
    family_id = _require_parent(actor)
    child = child_for(uow, actor, child_id)
    person = load_child_record(uow, child, "autorisations", person_id, family_id)
    require_recent_login(portal, actor)
    _check_version(person, version)
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


# --------------------------------------------------------------------------- reading


def family_id_of(actor: Actor) -> int:
    """The household a parent acts for."""
    return _require_parent(actor)


@frozen
class AccountView:
    """What Mon compte shows (``fiscal`` and ``bank`` are ``None`` when not readable)."""

    family: Any
    responsable: Guardian | None
    conjoint: Guardian | None
    fiscal: FiscalData | None
    caf: CafInfo | None
    bank: BankDetails | None
    sensitive_visible: bool = True


def account_view(portal: Portal, uow: UnitOfWork, actor: Actor, family_id: int | None = None) -> AccountView:
    """The household's Mon compte; an agent's read of tax and bank data is audited."""
    from famille_core.services.access import family_for

    family = family_for(uow, actor, family_id)
    assert family.id is not None
    visible = may_read_sensitive(portal, actor)
    fiscal = load_family_record(uow, family.id, "fiscal") if visible else None
    bank = load_family_record(uow, family.id, "banque") if visible else None
    if actor.is_agent:
        for record, kind in ((fiscal, "fiscal_data"), (bank, "bank_details")):
            if record is not None:
                audit(portal, uow, actor, "read", kind, record.id, family.id)
    return AccountView(
        family=family,
        responsable=load_family_record(uow, family.id, "responsable"),
        conjoint=load_family_record(uow, family.id, "conjoint"),
        fiscal=fiscal,
        caf=load_family_record(uow, family.id, "caf"),
        bank=bank,
        sensitive_visible=visible,
    )


def my_children(uow: UnitOfWork, actor: Actor) -> list[Child]:
    """The parent's children (Mes enfants)."""
    from famille_core.services.access import children_of

    return children_of(uow, family_id_of(actor))


def visible_child(uow: UnitOfWork, actor: Actor, child_id: int) -> Child:
    """The child when the actor may see it, else :class:`NotFound`."""
    return child_for(uow, actor, child_id)


@frozen
class ChildView:
    """A child's record as shown to its family or to an agent."""

    child: Child
    persons: list[AuthorizedPerson]
    details: ChildDetails | None
    health: HealthRecord | None
    health_visible: bool = True


def child_view(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> ChildView:
    """The child's record; a parent sees their household's authorised persons only, and an
    agent's read of the health record is audited."""
    child = child_for(uow, actor, child_id)
    if actor.is_agent:
        persons = uow.find(AuthorizedPerson, child_id=child.id, order_by=("last_name", "id"))
    else:
        persons = uow.find(AuthorizedPerson, child_id=child.id, family_id=family_id_of(actor), order_by=("last_name", "id"))
    visible = may_read_sensitive(portal, actor)
    health = load_child_record(uow, child, "sanitaires") if visible else None
    if actor.is_agent and health is not None:
        audit(portal, uow, actor, "read", "health_record", health.id, None)
    return ChildView(
        child=child,
        persons=persons,
        details=load_child_record(uow, child, "complementaires"),
        health=health,
        health_visible=visible,
    )


# --------------------------------------------------------------------------- photo


def set_photo(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    data: bytes,
    version: str | int | None,
    extra_keys: list[str] | tuple[str, ...] = (),
) -> Child:
    """Store a new photo of the child (re-encoded, without metadata); the old file is deleted
    once the change is committed."""
    from famille_plugins.profile import photos

    family_id = _require_parent(actor)
    child = child_for(uow, actor, child_id)
    issues = unknown_fields(set(), dict.fromkeys(extra_keys, ""))
    if issues:
        raise ValidationFailed(issues)
    settings = settings_of(portal)
    jpeg = photos.reencode(
        data,
        max_bytes=settings.photo_max_bytes,
        max_pixels=settings.photo_max_pixels,
        max_side=settings.photo_max_side,
    )
    _check_version(child, version)
    old = child.photo_key
    key = photos.store(portal, jpeg)
    child.photo_key = key
    shared.tell_other_households(portal, uow, family_id, child, "photo")
    try:
        uow.flush()
    except Exception:
        photos.delete(portal, key)
        raise
    uow.after_commit(lambda: photos.delete(portal, old))
    return child


def photo_bytes(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> bytes | None:
    """The child's stored photo, for its family and agents only."""
    from famille_plugins.profile import photos

    child = child_for(uow, actor, child_id)
    if not child.photo_key:
        return None
    path = photos.photo_path(portal, child.photo_key)
    return path.read_bytes() if path.exists() else None


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
    record = _apply(uow, request.family_id, request.section, values, record, child=child)
    uow.flush()
    if child is not None and getattr(record, "version", None) != before:
        shared.tell_other_households(portal, uow, request.family_id, child, request.section)
    return record
