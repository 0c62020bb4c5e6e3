"""A child shared by two households (separated parents): one record, two households.

A child's health record, additional details and photo are one record, whichever household
writes them; authorised persons are kept per household. When one household's change to a shared
record is applied (at once, or when an agent approves it), every other household of the child is
told through its inbox — which section changed, never the values (the health data stays
on the child's record, where each household reads it). A town that wants an agent to look at
such changes first lists the section in ``[plugins.profile] validated_sections``; the other
household is then told when the change is approved.
"""

from __future__ import annotations

from famille_core.entities import Child, FamilyChild
from famille_core.notify import notify_family
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork

SHARED_SECTIONS = {
    "complementaires": "Données complémentaires",
    "sanitaires": "Données sanitaires",
    "photo": "Photo",
}
"""What both households of a child read and write (by section name)."""


def other_households(uow: UnitOfWork, child_id: int, family_id: int) -> list[int]:
    """The households of the child other than ``family_id``."""
    return sorted(link.family_id for link in uow.find(FamilyChild, child_id=child_id) if link.family_id != family_id)


def tell_other_households(portal: Portal, uow: UnitOfWork, family_id: int, child: Child, section: str) -> None:
    """Tell the child's other households that ``family_id`` changed a shared ``section``."""
    if section not in SHARED_SECTIONS or child.id is None:
        return
    title = SHARED_SECTIONS[section]
    subject = f"Fiche de {child.first_name} modifiée par l'autre foyer : {title}"
    body = (
        f"La rubrique « {title} » de la fiche de {child.first_name} a été modifiée depuis "
        "l'autre foyer de l'enfant. Cette fiche est commune à vos deux foyers : "
        "consultez-la dans « Mes enfants » pour vérifier les informations. Si une information "
        "vous semble inexacte, corrigez-la ou écrivez à la mairie."
    )
    for other in other_households(uow, child.id, family_id):
        notify_family(portal, uow, other, subject, body)
