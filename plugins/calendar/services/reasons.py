"""The absence reasons (motifs) offered to a family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from famille_core.errors import ValidationFailed

if TYPE_CHECKING:
    from famille_core.entities import AbsenceReason, Activity, Child
    from famille_core.portal import Portal


def reasons_for(
    portal: Portal, child: Child | None = None, activity: Activity | None = None
) -> list[AbsenceReason]:
    """The ``absence_reasons`` hook's answers merged by code.

    The built-in list (registered ``trylast``) comes first, in the user guide's order; a plugin
    that answers with a known code changes that reason in place, new codes follow.
    """
    answers = portal.hook.absence_reasons(portal=portal, child=child, activity=activity)
    merged: dict[str, AbsenceReason] = {}
    for answer in reversed(answers):
        for reason in answer or ():
            merged[reason.code] = reason
    return list(merged.values())


def reason_by_code(
    portal: Portal, code: str, child: Child | None = None, activity: Activity | None = None
) -> AbsenceReason:
    """The reason named ``code``; :class:`ValidationFailed` on the ``reason`` field otherwise."""
    for reason in reasons_for(portal, child, activity):
        if reason.code == code:
            return reason
    if not code:
        raise ValidationFailed.single("reason_required", "Choisissez le motif de l'absence.", "reason")
    raise ValidationFailed.single(
        "unknown_reason", "Ce motif d'absence n'existe pas : choisissez-en un dans la liste.", "reason"
    )
