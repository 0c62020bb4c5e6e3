"""The sections of Mon compte and of a child's record: their titles, which changes wait for an
agent (``[plugins.profile] validated_sections``), which are sensitive, who may read them, and
their fields (the built-in ones and the collectivity's)."""

from __future__ import annotations

from famille_core.entities import Actor, Role
from famille_core.errors import PermissionDenied
from famille_core.portal import Portal
from famille_core.services.access import require_family
from famille_plugins.profile.services.fields import SECTION_FIELDS, FieldSpec
from famille_plugins.profile.settings import settings_of

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


def require_parent(actor: Actor) -> int:
    """The household a parent acts for; an agent never edits a record (agents decide requests)."""
    if actor.is_agent:
        raise PermissionDenied("Les agents valident les demandes ; ils ne modifient pas les fiches.")
    return require_family(actor)
