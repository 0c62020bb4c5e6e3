"""Justificatifs: a household attaches a file (PDF or image, the portal's upload rules of
:mod:`famille_core.uploads`) to an absence; agents of the activity's service accept or refuse it
in a queue; the absence's billable flag follows the decision (``[plugins.calendar.documents]``)
and the family is told through its inbox (docs/calendar.md, "Justificatifs").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from attrs import frozen

from famille_core import uploads
from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    Child,
    DocumentState,
    SupportingDocument,
)
from famille_core.errors import Issue, NotFound, ValidationFailed, raise_if
from famille_core.notify import notify_family
from famille_core.portal import Portal
from famille_core.services.access import require_agent, require_family
from famille_core.services.audit import audit
from famille_core.uow import Between, In, UnitOfWork
from famille_plugins.calendar.services.agents import MAX_REFUSAL, _by_id, _handles
from famille_plugins.calendar.services.deadlines import french_long_day
from famille_plugins.calendar.settings import DocumentSettings, settings_of

FOLDER = "justificatifs"
FIELD = "file"
HISTORY_DAYS = 92
"""A household's page lists its absences of the last three months and to come."""


def _settings(portal: Portal) -> DocumentSettings:
    return settings_of(portal).documents


def due_date(portal: Portal, absence: Absence) -> date | None:
    """When a justificatif is due for ``absence``; ``None`` when its reason needs none."""
    settings = _settings(portal)
    if absence.reason_code not in settings.required_reasons:
        return None
    return absence.day + timedelta(days=settings.days)


@frozen(kw_only=True)
class AbsenceDocuments:
    """An absence of the household, with its justificatifs (newest first)."""

    absence: Absence
    child: Child
    activity: Activity
    documents: tuple[SupportingDocument, ...]
    due: date | None

    @property
    def current(self) -> SupportingDocument | None:
        """The latest justificatif, whatever its state."""
        return self.documents[0] if self.documents else None

    @property
    def may_attach(self) -> bool:
        """A new file is welcome unless one waits for a decision or was accepted."""
        return self.current is None or self.current.state is DocumentState.REFUSED


def _documents_by_absence(uow: UnitOfWork, absence_ids: Sequence[int]) -> dict[int, list[SupportingDocument]]:
    found: dict[int, list[SupportingDocument]] = {}
    if absence_ids:
        for doc in uow.find(SupportingDocument, absence_id=In(absence_ids), order_by=("-uploaded_at", "-id")):
            found.setdefault(doc.absence_id, []).append(doc)
    return found


def household_absences(portal: Portal, uow: UnitOfWork, actor: Actor) -> list[AbsenceDocuments]:
    """The household's absences of the last three months and to come, with their justificatifs
    (four queries)."""
    family_id = require_family(actor)
    since = today_in_paris(portal.clock) - timedelta(days=HISTORY_DAYS)
    absences = [a for a in uow.find(Absence, family_id=family_id, order_by=("-day", "id")) if a.day >= since]
    children = _by_id(uow, Child, {a.child_id for a in absences})
    activities = _by_id(uow, Activity, {a.activity_id for a in absences})
    documents = _documents_by_absence(uow, [a.id for a in absences if a.id is not None])
    return [
        AbsenceDocuments(
            absence=a,
            child=children[a.child_id],
            activity=activities[a.activity_id],
            documents=tuple(documents.get(a.id or 0, [])),
            due=due_date(portal, a),
        )
        for a in absences
    ]


def missing_documents(portal: Portal, uow: UnitOfWork, actor: Actor) -> list[AbsenceDocuments]:
    """The household's past absences whose reason needs a justificatif and that have none
    waiting or accepted (one query when there are none, four otherwise): the home panel's
    reminder."""
    family_id = require_family(actor)
    required = list(_settings(portal).required_reasons)
    today = today_in_paris(portal.clock)
    if not required:
        return []
    absences = uow.find(
        Absence,
        family_id=family_id,
        reason_code=In(required),
        day=Between(today - timedelta(days=HISTORY_DAYS), today),
        order_by=("day", "id"),
    )
    if not absences:
        return []
    documents = _documents_by_absence(uow, [a.id for a in absences if a.id is not None])
    children = _by_id(uow, Child, {a.child_id for a in absences})
    activities = _by_id(uow, Activity, {a.activity_id for a in absences})
    rows = [
        AbsenceDocuments(
            absence=a, child=children[a.child_id], activity=activities[a.activity_id],
            documents=tuple(documents.get(a.id or 0, [])), due=due_date(portal, a),
        )
        for a in absences
    ]
    return [row for row in rows if row.may_attach]


def attach(
    portal: Portal, uow: UnitOfWork, actor: Actor, absence_id: int, upload: uploads.Upload
) -> SupportingDocument:
    """Attach a justificatif to one of the household's absences.

    :raises NotFound: another household's absence.
    :raises ValidationFailed: a file the upload rules refuse, a justificatif already waiting or
        accepted, an absence older than the three months the household's page lists.
    """
    family_id = require_family(actor)
    absence = uow.get(Absence, absence_id, for_update=True)
    if absence is None or absence.family_id != family_id:
        raise NotFound("Absence introuvable.")
    if absence.day < today_in_paris(portal.clock) - timedelta(days=HISTORY_DAYS):
        raise ValidationFailed.single(
            "absence_too_old", "Cette absence date de plus de trois mois : adressez-vous à la mairie.", FIELD
        )
    settings = _settings(portal)
    latest = uow.first(SupportingDocument, absence_id=absence_id, order_by=("-uploaded_at", "-id"))
    if latest is not None and latest.state is not DocumentState.REFUSED:
        raise ValidationFailed.single(
            "already_attached",
            "Un justificatif est déjà joint à cette absence" + (" et attend sa vérification." if latest.state is DocumentState.PENDING else " et a été accepté."),
            FIELD,
        )
    if not upload.filename and not upload.data:
        raise ValidationFailed.single("file_required", "Choisissez le fichier du justificatif (PDF, JPEG ou PNG).", FIELD)
    checked = uploads.check_file(upload, max_bytes=settings.max_bytes, max_pixels=settings.max_image_pixels)
    if isinstance(checked, Issue):
        raise_if([Issue(code=checked.code, message=checked.message, field=FIELD)])
        raise AssertionError("unreachable")
    key = uploads.store(portal, uow, checked.data, FOLDER)
    document = SupportingDocument(
        absence_id=absence_id,
        family_id=family_id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        storage_key=key,
        uploaded_at=portal.clock.now(),
        uploaded_by=actor.user_id,
    )
    uow.add(document)
    uow.flush()
    return document


# --------------------------------------------------------------------------- agents


def _handled_ids(uow: UnitOfWork, actor: Actor) -> list[int]:
    require_agent(actor)
    mine = [a.id for a in uow.find(Activity) if _handles(actor, a) and a.id is not None]
    if not mine:
        raise NotFound("Page introuvable.")
    return mine


@frozen(kw_only=True)
class QueueRow:
    """A justificatif to decide, or an absence whose required justificatif is late."""

    absence: Absence
    child: Child
    activity: Activity
    document: SupportingDocument | None
    due: date | None


def queue(portal: Portal, uow: UnitOfWork, actor: Actor, limit: int = 200) -> tuple[list[QueueRow], list[QueueRow]]:
    """``(to decide, late)``: the pending justificatifs of the agent's activities, oldest first,
    and the absences whose required justificatif is past due with none waiting or accepted."""
    mine = _handled_ids(uow, actor)
    pending = uow.find(SupportingDocument, state=DocumentState.PENDING, order_by=("uploaded_at", "id"), limit=limit)
    settings = _settings(portal)
    today = today_in_paris(portal.clock)
    required = uow.find(
        Absence,
        reason_code=In(list(settings.required_reasons)),
        activity_id=In(mine),
        order_by=("day", "id"),
        limit=limit,
    ) if settings.required_reasons else []
    late_candidates = [a for a in required if a.day + timedelta(days=settings.days) < today]
    absences = _by_id(uow, Absence, {d.absence_id for d in pending}) | {a.id: a for a in late_candidates if a.id}
    covered = _documents_by_absence(uow, [a.id for a in late_candidates if a.id is not None])
    children = _by_id(uow, Child, {a.child_id for a in absences.values()})
    activities = _by_id(uow, Activity, {a.activity_id for a in absences.values()})
    to_decide = [
        QueueRow(
            absence=absences[d.absence_id], child=children[absences[d.absence_id].child_id],
            activity=activities[absences[d.absence_id].activity_id], document=d, due=due_date(portal, absences[d.absence_id]),
        )
        for d in pending
        if absences[d.absence_id].activity_id in mine
    ]
    late = [
        QueueRow(absence=a, child=children[a.child_id], activity=activities[a.activity_id], document=None, due=due_date(portal, a))
        for a in late_candidates
        if not any(d.state is not DocumentState.REFUSED for d in covered.get(a.id or 0, []))
    ]
    return to_decide, late


def _document_for_agent(uow: UnitOfWork, actor: Actor, document_id: int, *, for_update: bool = False) -> tuple[SupportingDocument, Absence, Activity]:
    require_agent(actor)
    document = uow.get(SupportingDocument, document_id, for_update=for_update)
    absence = uow.get(Absence, document.absence_id, for_update=for_update) if document else None
    activity = uow.get(Activity, absence.activity_id) if absence else None
    if document is None or absence is None or activity is None or not _handles(actor, activity):
        raise NotFound("Justificatif introuvable.")
    return document, absence, activity


def decide(
    portal: Portal, uow: UnitOfWork, actor: Actor, document_id: int, accept: bool, reason: str = ""
) -> SupportingDocument:
    """Accept or refuse a justificatif: the absence's billable flag follows the settings, the
    decision is audited and the family is told.

    :raises NotFound: another service's justificatif.
    :raises ValidationFailed: already decided, or a refusal without a reason.
    """
    document, absence, activity = _document_for_agent(uow, actor, document_id, for_update=True)
    reason = reason.strip()
    if document.state is not DocumentState.PENDING:
        raise ValidationFailed.single("already_decided", "Ce justificatif a déjà été traité.")
    if not accept and not reason:
        raise ValidationFailed.single("reason_required", "Indiquez le motif du refus.", "reason")
    if len(reason) > MAX_REFUSAL:
        raise ValidationFailed.single("reason_too_long", f"Le motif dépasse {MAX_REFUSAL} caractères.", "reason")
    settings = _settings(portal)
    document.state = DocumentState.ACCEPTED if accept else DocumentState.REFUSED
    document.decided_at = portal.clock.now()
    document.decided_by = actor.user_id
    document.refusal_reason = "" if accept else reason
    billable = settings.billable_after(accept)
    if billable is not None:
        absence.billable = billable
    audit(portal, uow, actor, "accept" if accept else "refuse", "supporting_document", document.id, document.family_id)
    child = uow.get(Child, absence.child_id)
    name = child.first_name if child else ""
    when = french_long_day(absence.day)
    if accept:
        subject = "Justificatif accepté"
        body = f"Le justificatif de l'absence de {name} le {when} ({activity.label}) est accepté."
    else:
        subject = "Justificatif refusé"
        body = f"Le justificatif de l'absence de {name} le {when} ({activity.label}) est refusé : {reason} Vous pouvez en joindre un autre."
    if billable is not None:
        body += " Ce jour sera facturé." if billable else " Ce jour ne sera pas facturé."
    notify_family(portal, uow, document.family_id, subject, body, service=activity.service)
    uow.flush()
    return document


def document_file(portal: Portal, uow: UnitOfWork, actor: Actor, document_id: int) -> tuple[SupportingDocument, bytes]:
    """The file of a justificatif, for its household or an agent of the activity's service (an
    agent's read is audited).

    :raises NotFound: anyone else, or a file gone from the disk.
    """
    if actor.is_agent:
        document, _absence, _activity = _document_for_agent(uow, actor, document_id)
        audit(portal, uow, actor, "read", "supporting_document", document.id, document.family_id)
    else:
        family_id = require_family(actor)
        found = uow.get(SupportingDocument, document_id)
        if found is None or found.family_id != family_id:
            raise NotFound("Justificatif introuvable.")
        document = found
    data = uploads.read(portal, document.storage_key)
    if data is None:
        raise NotFound("Justificatif introuvable.")
    return document, data
