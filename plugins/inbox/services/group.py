""""Message groupé" (issue 15 point 3, docs/agents.md): one text from a service to every household
of the chosen children — enrolled in an activity on a day or range (a strike, a closure, a menu
change), or at a school, or in a class.

The agent sees the number of households first (:func:`preview`); :func:`send` then records the
message and its recipients, fixed at that moment, and the background job
``inbox.group_message`` (docs/jobs.md) posts it in each household's inbox, with its e-mail
through the outbox, once per household whatever the retries (:func:`deliver`). A child of
separated parents belongs to two households: both receive it, each once.

Reserved to agents who read a mailbox (an administrator: every one; an agent: their service's);
anyone else gets :class:`NotFound`, like a page that does not exist (docs/security.md point 10).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import attrs
from attrs import frozen

from famille_core.entities import (
    Activity,
    Actor,
    Child,
    Enrollment,
    FamilyChild,
    GroupMessage,
    GroupMessageRecipient,
)
from famille_core.errors import Issue, NotFound, ValidationFailed, raise_if
from famille_core.french import long_day
from famille_core.hooks.results import FamilyNotice
from famille_core.portal import Portal
from famille_core.services.audit import audit
from famille_core.uow import Gte, In, Lte, UnitOfWork
from famille_plugins.inbox.services.mailboxes import mailboxes_for
from famille_plugins.inbox.services.sending import clean_text, text_issues
from famille_plugins.inbox.settings import settings_of

JOB = "inbox.group_message"
BATCH = 200
"""Households posted per transaction by the job."""
MAX_RANGE_DAYS = 366
REPEAT_MINUTES = 10
"""The same message to the same children by the same agent within this time is a repeat (a
second tab, a form sent twice) and is refused."""

ACTIVITY, SCHOOL = "activite", "ecole"


@frozen(kw_only=True)
class Audience:
    """The chosen children: enrolled in ``activity_id`` over ``[start, end]`` (at ``site`` when
    given: an activity run at several places), or at ``school`` (in ``class_level`` when given)."""

    kind: str
    activity_id: int | None = None
    start: date | None = None
    end: date | None = None
    site: str = ""
    school: str = ""
    class_level: str = ""


@frozen(kw_only=True)
class Preview:
    """What the agent confirms: the households, how many, and the chosen children in words."""

    audience: Audience
    words: str
    family_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        """How many households the message goes to."""
        return len(self.family_ids)


def sending_services(portal: Portal, actor: Actor) -> tuple[str, ...]:
    """The services ``actor`` may write a group message from; :class:`NotFound` when none."""
    services = mailboxes_for(portal, actor) if actor.is_agent and not actor.is_acting else ()
    if not services:
        raise NotFound("Page introuvable.")
    return services


def choices(portal: Portal, uow: UnitOfWork, actor: Actor) -> dict[str, list[str] | list[Activity]]:
    """What the form offers: the active activities, their sites, the schools and the classes
    known."""
    sending_services(portal, actor)
    children = uow.find(Child, order_by=("school", "class_level"))
    return {
        "activities": uow.find(Activity, active=True, order_by=("label", "id")),
        "sites": sorted(site for (site,) in uow.count_by(Enrollment, ("site",)) if site),
        "schools": sorted({child.school for child in children if child.school}),
        "classes": sorted({child.class_level for child in children if child.class_level}),
    }


def _describe(audience: Audience, activity: Activity | None) -> str:
    if audience.kind == ACTIVITY:
        assert activity is not None and audience.start is not None and audience.end is not None
        where = f" ({audience.site})" if audience.site else ""
        if audience.start == audience.end:
            return f"« {activity.label} »{where}, le {long_day(audience.start)}"
        return f"« {activity.label} »{where}, du {long_day(audience.start)} au {long_day(audience.end)}"
    if audience.class_level:
        return f"École {audience.school}, classe {audience.class_level}"
    return f"École {audience.school}"


def _checked(uow: UnitOfWork, audience: Audience) -> Activity | None:
    """The activity of an activity audience; raises :class:`ValidationFailed` on bad input."""
    issues: list[Issue] = []
    activity = None
    if audience.kind == ACTIVITY:
        if audience.activity_id is None:
            issues.append(Issue("required", "Activité : choisissez une activité.", "activity_id"))
        else:
            activity = uow.get(Activity, audience.activity_id)
            if activity is None:
                issues.append(Issue("unknown", "Activité : activité inconnue.", "activity_id"))
        if audience.start is None:
            issues.append(Issue("required", "Du : indiquez le premier jour.", "start"))
        elif audience.end is not None and audience.end < audience.start:
            issues.append(Issue("range_order", "Au : la date de fin précède la date de début.", "end"))
        elif audience.end is not None and audience.end - audience.start > timedelta(days=MAX_RANGE_DAYS):
            issues.append(Issue("range_too_long", "Au : la période ne peut pas dépasser un an.", "end"))
    elif audience.kind == SCHOOL:
        if not audience.school:
            issues.append(Issue("required", "École : choisissez une école.", "school"))
    else:
        issues.append(Issue("required", "Destinataires : choisissez une activité ou une école.", "kind"))
    raise_if(issues)
    return activity


def _children(uow: UnitOfWork, audience: Audience) -> set[int]:
    if audience.kind == ACTIVITY:
        assert audience.start is not None and audience.end is not None
        at_site: dict[str, Any] = {"site": audience.site} if audience.site else {}
        enrolments = uow.find(
            Enrollment,
            activity_id=audience.activity_id,
            start_date=Lte(audience.end),
            end_date=Gte(audience.start),
            **at_site,
        )
        return {enrolment.child_id for enrolment in enrolments}
    criteria: dict[str, Any] = {"school": audience.school}
    if audience.class_level:
        criteria["class_level"] = audience.class_level
    return {child.id for child in uow.find(Child, **criteria) if child.id is not None}


def preview(portal: Portal, uow: UnitOfWork, actor: Actor, audience: Audience) -> Preview:
    """The households of the chosen children (both households of a child of separated parents),
    each once, and the choice in words: what the agent confirms before sending."""
    sending_services(portal, actor)
    if audience.kind == ACTIVITY and audience.start is not None and audience.end is None:
        audience = attrs.evolve(audience, end=audience.start)  # one day
    activity = _checked(uow, audience)
    children = _children(uow, audience)
    links = uow.find(FamilyChild, child_id=In(children)) if children else []
    family_ids = tuple(sorted({link.family_id for link in links}))
    return Preview(audience=audience, words=_describe(audience, activity), family_ids=family_ids)


def check_text(portal: Portal, actor: Actor, service: str, subject: str, body: str) -> tuple[str, str]:
    """The title and text as they will be stored; :class:`ValidationFailed` when one is missing
    or too long, or when ``service`` is not one the agent writes from."""
    services = sending_services(portal, actor)
    subject, body = clean_text(subject), clean_text(body)
    issues = text_issues(settings_of(portal), subject, body)
    if service not in services:
        issues.append(Issue("service", "Service : choisissez l'un de vos services.", "service"))
    raise_if(issues)
    return subject, body


def send(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    audience: Audience,
    service: str,
    subject: str,
    body: str,
    expected: int,
) -> GroupMessage:
    """Record the group message and its recipients (the job posts it after the commit).

    ``expected`` is the count the agent saw: if the households changed meanwhile, nothing is
    sent and the agent sees the new preview. The same text to the same children sent again by
    the same agent within :data:`REPEAT_MINUTES` is refused (a second tab, a retry).

    :raises NotFound: the agent reads no mailbox.
    :raises ValidationFailed: bad text, service or audience; no household; a changed count.
    """
    subject, body = check_text(portal, actor, service, subject, body)
    found = preview(portal, uow, actor, audience)
    if found.count == 0:
        raise ValidationFailed.single("no_household", "Aucun foyer ne correspond à ce choix : rien n'a été envoyé.", "kind")
    if found.count != expected:
        raise ValidationFailed.single(
            "count_changed",
            f"Le nombre de foyers a changé ({found.count} au lieu de {expected}) : vérifiez l'aperçu, rien n'a été envoyé.",
            "kind",
        )
    uow.lock(f"inbox:group:{actor.user_id}")  # two tabs of one agent are serialised
    now = portal.clock.now()
    recent = uow.find(
        GroupMessage,
        created_by=actor.user_id,
        subject=subject,
        audience=found.words,
        created_at=Gte(now - timedelta(minutes=REPEAT_MINUTES)),
    )
    if any(previous.body == body for previous in recent):
        raise ValidationFailed.single("repeated", "Ce message vient déjà d'être envoyé à ces foyers.", "kind")
    group = GroupMessage(
        service=service,
        subject=subject,
        body=body,
        audience=found.words[:300],
        created_at=now,
        created_by=actor.user_id,
        author_label=f"{actor.display_name} {service}".strip()[:200],
        recipients=found.count,
    )
    uow.add(group)
    uow.flush()
    assert group.id is not None
    for family_id in found.family_ids:
        uow.add(GroupMessageRecipient(group_message_id=group.id, family_id=family_id))
    uow.flush()
    audit(portal, uow, actor, "group_message.sent", "group_message", group.id)
    group_id = group.id
    uow.after_commit(lambda: _enqueue(portal, group_id))
    return group


def _enqueue(portal: Portal, group_id: int) -> None:
    """Ask the worker to post it now; if the queue's store does not answer, the job's periodic
    pass posts it within five minutes."""
    from famille_core.jobs import enqueue

    try:
        enqueue(portal, JOB, group_message_id=group_id)
    except Exception:
        return


def history(portal: Portal, uow: UnitOfWork, actor: Actor, limit: int = 20) -> list[GroupMessage]:
    """The latest group messages of the agent's services, newest first."""
    services = sending_services(portal, actor)
    return uow.find(GroupMessage, service=In(services), order_by=("-created_at", "-id"), limit=limit)


def deliver(portal: Portal, group_message_id: int | None = None) -> int:
    """The ``inbox.group_message`` job: post the group message (every one still undelivered when
    ``group_message_id`` is ``None``) in each household's inbox not yet served, a batch per
    transaction; returns how many households it served. Idempotent: a household already served
    is skipped, so a retry or a second worker never posts twice."""
    from famille_plugins.inbox.services.sending import post_notice

    served = 0
    with portal.unit_of_work() as uow:
        criteria = {"id": group_message_id} if group_message_id is not None else {"delivered_at": None}
        groups = [
            (g.id, g.service, g.subject, g.body)
            for g in uow.find(GroupMessage, **criteria)
            if g.id is not None
        ]
    for group_id, service, subject, body in groups:
        while True:
            with portal.unit_of_work() as uow:
                uow.lock(f"inbox:group-delivery:{group_id}")
                pending = uow.find(
                    GroupMessageRecipient, group_message_id=group_id, message_id=None, order_by=("id",), limit=BATCH
                )
                if not pending:
                    group = uow.get(GroupMessage, group_id)
                    if group is not None and group.delivered_at is None:
                        group.delivered_at = portal.clock.now()
                    uow.commit()
                    break
                for recipient in pending:
                    notice = FamilyNotice(family_id=recipient.family_id, subject=subject, body=body, service=service)
                    recipient.message_id = post_notice(portal, uow, notice)
                    served += 1
                uow.commit()
    return served
