"""Agents' side: finding a family or a child, and deciding change requests.

Approving re-validates the requested values against the current rules and applies them; the
family is told through :func:`famille_core.notify_family` (a no-op without the inbox plugin).
"""

from __future__ import annotations

from attrs import frozen

from famille_core import notify_family
from famille_core.entities import Actor, ChangeRequest, Child, Family, FamilyChild, Guardian
from famille_core.errors import Conflict, NotFound, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import require_agent
from famille_core.services.audit import audit
from famille_core.uow import Contains, In, UnitOfWork
from famille_plugins.profile.services import changes, sections
from famille_plugins.profile.services.fields import BOOL, IBAN, mask_iban

ALREADY_DECIDED = "Cette demande a déjà été traitée (par un autre agent ou dans un autre onglet) : votre décision n'a pas été enregistrée."


@frozen
class SearchResult:
    """Families and children matching an agent's search."""

    families: list[Family]
    children: list[tuple[Child, list[int]]]


def search(uow: UnitOfWork, actor: Actor, text: str) -> SearchResult:
    """Families by name, number or guardian's name; children by name (30 of each at most)."""
    require_agent(actor)
    text = text.strip()
    if len(text) < 2:
        return SearchResult([], [])
    ids = {f.id for f in uow.find(Family, name=Contains(text), limit=30)}
    ids |= {f.id for f in uow.find(Family, family_number=Contains(text), limit=30)}
    ids |= {g.family_id for g in uow.find(Guardian, last_name=Contains(text), limit=30)}
    ids |= {g.family_id for g in uow.find(Guardian, first_name=Contains(text), limit=30)}
    families = uow.find(Family, id=In(ids), order_by=("name", "id"), limit=30) if ids else []
    kids: dict[int, Child] = {}
    found = uow.find(Child, last_name=Contains(text), limit=30)
    found += uow.find(Child, first_name=Contains(text), limit=30)
    for child in found:
        assert child.id is not None
        kids[child.id] = child
    links = uow.find(FamilyChild, child_id=In(list(kids))) if kids else []
    households: dict[int, list[int]] = {}
    for link in links:
        households.setdefault(link.child_id, []).append(link.family_id)
    children = [(kids[i], households.get(i, [])) for i in sorted(kids, key=lambda i: kids[i].full_name)]
    return SearchResult(families, children)


def households_of(uow: UnitOfWork, child_id: int) -> list[Family]:
    """The households a child belongs to (two for separated parents)."""
    links = uow.find(FamilyChild, child_id=child_id)
    return uow.find(Family, id=In([link.family_id for link in links]), order_by=("name",)) if links else []


def list_requests(uow: UnitOfWork, actor: Actor) -> list[tuple[ChangeRequest, Family | None]]:
    """Pending change requests, oldest first, with their household."""
    require_agent(actor)
    pending = uow.find(ChangeRequest, state=changes.PENDING, order_by=("created_at", "id"), limit=200)
    families = {f.id: f for f in uow.find(Family, id=In({r.family_id for r in pending}))} if pending else {}
    return [(r, families.get(r.family_id)) for r in pending]


def shown_values(portal: Portal, request: ChangeRequest) -> list[tuple[str, str]]:
    """The requested values as an agent reads them: French labels, the IBAN masked."""
    values: dict[str, str] = dict(request.payload.get("values", {}))
    rows: list[tuple[str, str]] = []
    for spec in sections.section_specs(portal, request.section):
        value = values.get(spec.name, "")
        if spec.kind == BOOL:
            value = "Oui" if value else "Non"
        elif spec.kind == IBAN:
            value = mask_iban(value)
        rows.append((spec.label, value))
    for key in sorted(k for k in values if k.startswith("vaccinations.") and k.endswith(".name")):
        if values[key]:
            rows.append(("Vaccin", f"{values[key]} — {values.get(key[:-4] + 'date', '')}"))
    return rows


def get_request(
    portal: Portal, uow: UnitOfWork, actor: Actor, request_id: int, *, for_update: bool = False
) -> ChangeRequest:
    """One change request; an agent's read of a tax, bank or health request is audited.

    ``for_update`` serialises the deciders of this request until the end of the transaction:
    the named lock (every database) and the row lock (PostgreSQL) are taken before the request
    is read, so the second agent reads the state the first one committed.
    """
    require_agent(actor)
    if for_update:
        uow.lock(f"change_request:{request_id}")
    request = uow.get(ChangeRequest, request_id, for_update=for_update)
    if request is None or request.section not in sections.SECTION_TITLES:
        raise NotFound("Demande introuvable.")
    if request.section in sections.AUDITED:
        if not sections.may_read_sensitive(portal, actor):
            raise NotFound("Demande introuvable.")
        audit(portal, uow, actor, "read", "change_request", request.id, request.family_id)
    return request


def decide(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    request_id: int,
    *,
    approve: bool,
    comment: str = "",
) -> ChangeRequest:
    """Approve (apply) or refuse a pending request and tell the family.

    Two agents deciding the same request at once are serialised (docs/security.md point 39):
    the second one waits for the first decision, then gets :class:`Conflict`, so a change is
    never applied twice and the family gets one message.

    :raises Conflict: the request was already decided (by another agent, or in another tab).
    :raises ValidationFailed: the requested values no longer pass the rules.
    """
    request = get_request(portal, uow, actor, request_id, for_update=True)
    comment = comment.strip()
    if len(comment) > 500:
        raise ValidationFailed.single("too_long", "Commentaire : 500 caractères au plus.", "comment")
    if request.state != changes.PENDING:
        raise Conflict(ALREADY_DECIDED)
    title = sections.SECTION_TITLES[request.section]
    if approve:
        try:
            record = changes.apply_request(portal, uow, actor, request)
        except NotFound:
            raise Conflict("L'élément visé par cette demande n'existe plus : refusez la demande.") from None
        if request.section in sections.AUDITED:
            audit(portal, uow, actor, "update", sections.AUDITED[request.section], getattr(record, "id", None), request.family_id)
    request.state = changes.APPROVED if approve else changes.REFUSED
    request.decided_at = portal.clock.now()
    request.decided_by = actor.user_id
    request.decision_comment = comment
    if approve:
        subject = f"Modification acceptée : {title}"
        body = f"Votre demande de modification de la rubrique « {title} » a été acceptée et prise en compte."
    else:
        subject = f"Modification refusée : {title}"
        body = f"Votre demande de modification de la rubrique « {title} » a été refusée."
    if comment:
        body += f"\n\nCommentaire de la mairie : {comment}"
    notify_family(portal, uow, request.family_id, subject, body, service=actor.service)
    uow.flush()
    return request
