"""The agents' day of an activity: the "Liste nominative" (children booked, with what staff need
to keep them safe) and the "Pointage" (who was actually there), with its trace and its export.

Access: an agent reaches the activities of their own service (administrators and agents without a
service reach them all, as for the requests' queue); anyone else gets a 404 — the page does not
exist for them (docs/calendar.md, "Liste nominative et pointage"). Reading a child's health record
through the list is audited, as every mark is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    Attendance,
    AttendanceMark,
    AuthorizedPerson,
    Child,
    ChildDetails,
    Enrollment,
    FamilyChild,
    Guardian,
    HealthRecord,
    Reservation,
    ReservationState,
    User,
)
from famille_core.errors import NotFound, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import require_agent
from famille_core.services.audit import audit
from famille_core.spreadsheet import csv_text
from famille_core.uow import Between, In, UnitOfWork
from famille_plugins.calendar.services.agents import _by_id, _handles
from famille_plugins.calendar.services.deadlines import french_long_day

DIETS = {"standard": "Standard", "sans_porc": "Sans porc", "sans_viande": "Sans viande", "vegetarien": "Végétarien"}
MAX_EXPORT_DAYS = 366


def handled_activities(uow: UnitOfWork, actor: Actor) -> list[Activity]:
    """The activities whose lists this agent reaches; none at all is a 404 (another service)."""
    require_agent(actor)
    mine = [a for a in uow.find(Activity, order_by=("label", "id")) if _handles(actor, a)]
    if not mine:
        raise NotFound("Page introuvable.")
    return mine


def handled_activity(uow: UnitOfWork, actor: Actor, activity_id: int) -> Activity:
    """The activity, when this agent handles it; otherwise :class:`NotFound`."""
    require_agent(actor)
    activity = uow.get(Activity, activity_id)
    if activity is None or not _handles(actor, activity):
        raise NotFound("Page introuvable.")
    return activity


@frozen(kw_only=True)
class Contact:
    """Someone to call about a child: an authorised person or a guardian."""

    name: str
    relationship: str
    phones: tuple[str, ...]


@frozen(kw_only=True)
class ListedChild:
    """One line of the named list."""

    child: Child
    site: str
    booked: bool
    absence: Absence | None
    attendance: Attendance | None
    diet: str
    food_allergies: str
    drug_allergies: str
    has_pai: bool
    pai_details: str
    authorised: tuple[Contact, ...]
    guardians: tuple[Contact, ...]

    @property
    def no_show(self) -> bool:
        """Booked, no absence declared, and marked absent."""
        return self.booked and self.absence is None and self.attendance is not None and not self.attendance.present


@frozen(kw_only=True)
class NamedList:
    """The named list of one activity, day and site (every site when ``site`` is empty)."""

    activity: Activity
    day: date
    site: str
    sites: tuple[str, ...]
    rows: tuple[ListedChild, ...]

    @property
    def no_shows(self) -> list[ListedChild]:
        """Children booked who did not come without warning."""
        return [row for row in self.rows if row.no_show]


def _sites(enrolments: Iterable[Enrollment], day: date) -> dict[int, str]:
    return {e.child_id: e.site for e in enrolments if e.covers(day)}


def _phones(*numbers: str) -> tuple[str, ...]:
    return tuple(n for n in numbers if n)


def named_list(
    portal: Portal, uow: UnitOfWork, actor: Actor, activity_id: int, day: date, site: str = ""
) -> NamedList:
    """Children booked (accepted) on ``day`` and those marked there, with their allergies, PAI,
    diet, authorised persons and guardians' phones — a constant number of queries. The read of
    the list and of each health record is audited (docs/security.md point 25)."""
    activity = handled_activity(uow, actor, activity_id)
    enrolments = uow.find(Enrollment, activity_id=activity_id)
    sites = _sites(enrolments, day)
    booked = {
        r.child_id: r
        for r in uow.find(Reservation, activity_id=activity_id, day=day, state=ReservationState.ACCEPTED)
    }
    marks = {a.child_id: a for a in uow.find(Attendance, activity_id=activity_id, day=day)}
    ids = [i for i in set(booked) | set(marks) if not site or sites.get(i, "") == site]
    children = _by_id(uow, Child, set(ids))
    absences = {a.child_id: a for a in uow.find(Absence, activity_id=activity_id, day=day, child_id=In(ids))} if ids else {}
    details = {d.child_id: d for d in uow.find(ChildDetails, child_id=In(ids))} if ids else {}
    health = {h.child_id: h for h in uow.find(HealthRecord, child_id=In(ids))} if ids else {}
    persons: dict[int, list[Contact]] = defaultdict(list)
    for p in uow.find(AuthorizedPerson, child_id=In(ids), order_by=("last_name", "id")) if ids else []:
        if p.may_pick_up or p.emergency_contact:
            persons[p.child_id].append(
                Contact(name=f"{p.first_name} {p.last_name.upper()}", relationship=p.relationship, phones=_phones(p.phone, p.phone_alt))
            )
    links = uow.find(FamilyChild, child_id=In(ids)) if ids else []
    guardians_by_family: dict[int, list[Guardian]] = defaultdict(list)
    for g in uow.find(Guardian, family_id=In({link.family_id for link in links})) if links else []:
        guardians_by_family[g.family_id].append(g)
    guardians: dict[int, list[Contact]] = defaultdict(list)
    for link in links:
        for g in guardians_by_family[link.family_id]:
            guardians[link.child_id].append(
                Contact(name=f"{g.first_name} {g.last_name.upper()}", relationship="Responsable", phones=_phones(g.phone_mobile, g.phone_home, g.phone_work))
            )
    audit(portal, uow, actor, "read", "named_list", activity.id)
    for found in health.values():
        audit(portal, uow, actor, "read", "health_record", found.id, None)
    rows = []
    for child_id in ids:
        record = health.get(child_id)
        rows.append(
            ListedChild(
                child=children[child_id],
                site=sites.get(child_id, ""),
                booked=child_id in booked,
                absence=absences.get(child_id),
                attendance=marks.get(child_id),
                diet=DIETS.get(getattr(details.get(child_id), "diet", "standard"), "Standard"),
                food_allergies=record.food_allergies if record else "",
                drug_allergies=record.drug_allergies if record else "",
                has_pai=bool(record and record.has_pai),
                pai_details=record.pai_details if record else "",
                authorised=tuple(persons[child_id]),
                guardians=tuple(guardians[child_id]),
            )
        )
    rows.sort(key=lambda r: (r.child.last_name.upper(), r.child.first_name, r.child.id or 0))
    return NamedList(
        activity=activity, day=day, site=site, sites=tuple(sorted({s for s in sites.values() if s})), rows=tuple(rows)
    )


def _contacts(contacts: Iterable[Contact]) -> str:
    return " ; ".join(
        f"{c.name}{f' ({c.relationship})' if c.relationship else ''}{' ' + ', '.join(c.phones) if c.phones else ''}"
        for c in contacts
    )


def attendance_label(row: ListedChild) -> str:
    """``Présent``, ``Absent``, or empty before the pointage."""
    if row.attendance is None:
        return ""
    return "Présent" if row.attendance.present else "Absent"


def named_list_csv(listing: NamedList) -> str:
    """The named list as CSV (semicolon-separated, through :func:`csv_text`)."""
    return csv_text(
        [
            "Date", "Activité", "Site", "Nom", "Prénom", "Classe", "Régime", "Allergies alimentaires",
            "Allergies médicamenteuses", "PAI", "Personnes autorisées", "Responsables", "Absence déclarée", "Pointage",
        ],
        (
            [
                listing.day.isoformat(), listing.activity.label, row.site, row.child.last_name.upper(), row.child.first_name,
                row.child.class_level, row.diet, row.food_allergies, row.drug_allergies,
                ("Oui" + (f" : {row.pai_details}" if row.pai_details else "")) if row.has_pai else "Non",
                _contacts(row.authorised), _contacts(row.guardians),
                row.absence.reason_label if row.absence else "", attendance_label(row),
            ]
            for row in listing.rows
        ),
        delimiter=";",
    )


# --------------------------------------------------------------------------- pointage


def _open_day(portal: Portal, day: date) -> None:
    if day > today_in_paris(portal.clock):
        raise ValidationFailed.single(
            "future_day", f"Le {french_long_day(day)} n'est pas encore arrivé : le pointage se fait le jour même.", "jour"
        )


def _write(portal: Portal, uow: UnitOfWork, actor: Actor, row: Attendance, present: bool, new: bool) -> None:
    now = portal.clock.now()
    if not new:
        row.present = present
        row.marked_at = now
        row.marked_by = actor.user_id
    else:
        uow.add(row)
    uow.flush()
    assert row.id is not None
    uow.add(AttendanceMark(attendance_id=row.id, present=present, at=now, by=actor.user_id))
    audit(portal, uow, actor, "mark" if new else "correct", "attendance", row.id, row.family_id)


def mark_attendance(
    portal: Portal, uow: UnitOfWork, actor: Actor, activity_id: int, day: date, marks: Mapping[int, bool]
) -> int:
    """Record présent/absent for children booked (or already marked) on ``day``; a changed mark is
    a correction, traced in :class:`AttendanceMark` and the audit. Returns how many marks changed.

    Two tablets marking the same list are serialised (``uow.lock``); the last mark wins and both
    are in the trace.

    :raises NotFound: an activity the agent does not handle.
    :raises ValidationFailed: a day to come, a child neither booked nor marked that day.
    """
    handled_activity(uow, actor, activity_id)
    _open_day(portal, day)
    uow.lock(f"attendance:{activity_id}:{day.isoformat()}")
    booked = {
        r.child_id: r
        for r in uow.find(Reservation, activity_id=activity_id, day=day, state=ReservationState.ACCEPTED)
    }
    existing = {a.child_id: a for a in uow.find(Attendance, activity_id=activity_id, day=day)}
    unknown = [child_id for child_id in marks if child_id not in booked and child_id not in existing]
    if unknown:
        raise ValidationFailed.single(
            "not_on_list", "Un des enfants pointés n'est pas sur la liste de ce jour : rechargez la page.", "pointage"
        )
    changed = 0
    for child_id, present in sorted(marks.items()):
        row = existing.get(child_id)
        if row is not None:
            if row.present != present:
                _write(portal, uow, actor, row, present, new=False)
                changed += 1
            continue
        reservation = booked[child_id]
        fresh = Attendance(
            child_id=child_id, activity_id=activity_id, family_id=reservation.family_id, day=day,
            present=present, marked_at=portal.clock.now(), marked_by=actor.user_id,
        )
        _write(portal, uow, actor, fresh, present, new=True)
        changed += 1
    return changed


def unexpected_candidates(uow: UnitOfWork, actor: Actor, activity_id: int, day: date, site: str = "") -> list[Child]:
    """Children enrolled in the activity on ``day`` (at ``site``) who are neither booked nor marked."""
    handled_activity(uow, actor, activity_id)
    sites = _sites(uow.find(Enrollment, activity_id=activity_id), day)
    taken = {r.child_id for r in uow.find(Reservation, activity_id=activity_id, day=day, state=ReservationState.ACCEPTED)}
    taken |= {a.child_id for a in uow.find(Attendance, activity_id=activity_id, day=day)}
    ids = {i for i, s in sites.items() if i not in taken and (not site or s == site)}
    return sorted(_by_id(uow, Child, ids).values(), key=lambda c: (c.last_name.upper(), c.first_name, c.id or 0))


def add_unexpected(
    portal: Portal, uow: UnitOfWork, actor: Actor, activity_id: int, day: date, child_id: int
) -> Attendance:
    """Mark present a child who came without a booking ("enfant non prévu"); the child must be
    enrolled in the activity on that day.

    :raises ValidationFailed: a day to come, a child not enrolled, a child already on the list.
    """
    handled_activity(uow, actor, activity_id)
    _open_day(portal, day)
    uow.lock(f"attendance:{activity_id}:{day.isoformat()}")
    enrolment = next(
        (e for e in uow.find(Enrollment, activity_id=activity_id, child_id=child_id) if e.covers(day)), None
    )
    if enrolment is None:
        raise ValidationFailed.single("not_enrolled", "Cet enfant n'est pas inscrit à cette activité ce jour-là.", "child_id")
    already = uow.first(Attendance, activity_id=activity_id, day=day, child_id=child_id)
    booked = uow.first(Reservation, activity_id=activity_id, day=day, child_id=child_id, state=ReservationState.ACCEPTED)
    if already is not None or booked is not None:
        raise ValidationFailed.single("already_listed", "Cet enfant est déjà sur la liste du jour.", "child_id")
    row = Attendance(
        child_id=child_id, activity_id=activity_id, family_id=enrolment.family_id, day=day, present=True,
        unexpected=True, marked_at=portal.clock.now(), marked_by=actor.user_id,
    )
    _write(portal, uow, actor, row, True, new=True)
    return row


@frozen(kw_only=True)
class MarkTrace:
    """One mark of the day's pointage, with the agent's name."""

    child: Child
    present: bool
    at: object
    by: str


def day_trace(uow: UnitOfWork, actor: Actor, activity_id: int, day: date) -> list[MarkTrace]:
    """Every mark of the day, newest first: who marked whom présent or absent, and when."""
    handled_activity(uow, actor, activity_id)
    rows = {a.id: a for a in uow.find(Attendance, activity_id=activity_id, day=day)}
    marks = uow.find(AttendanceMark, attendance_id=In(set(rows)), order_by=("-at", "-id")) if rows else []
    children = _by_id(uow, Child, {a.child_id for a in rows.values()})
    users = _by_id(uow, User, {m.by for m in marks if m.by is not None})
    return [
        MarkTrace(
            child=children[rows[m.attendance_id].child_id],
            present=m.present,
            at=m.at,
            by=getattr(users.get(m.by or 0), "display_name", "Portail"),
        )
        for m in marks
    ]


# --------------------------------------------------------------------------- export


def attended_rows(portal: Portal, uow: UnitOfWork, actor: Actor, start: date, end: date) -> list[list[object]]:
    """The pointage of a period, for billing: one line per child, activity and day marked (the
    export is audited)."""
    mine = [a.id for a in handled_activities(uow, actor)]
    if end < start or end - start > timedelta(days=MAX_EXPORT_DAYS):
        raise ValidationFailed.single("range", "Choisissez une période d'un an au plus, la fin après le début.", "au")
    audit(portal, uow, actor, "export", "attendance", None)
    rows = uow.find(Attendance, day=Between(start, end), activity_id=In(mine), order_by=("day", "activity_id", "child_id"))
    children = _by_id(uow, Child, {r.child_id for r in rows})
    activities = _by_id(uow, Activity, {r.activity_id for r in rows})
    booked = {
        (r.child_id, r.activity_id, r.day)
        for r in uow.find(Reservation, day=Between(start, end), activity_id=In(mine), state=ReservationState.ACCEPTED)
    } if rows else set()
    absent = {
        (a.child_id, a.activity_id, a.day) for a in uow.find(Absence, day=Between(start, end), activity_id=In(mine))
    } if rows else set()
    out: list[list[object]] = []
    for r in rows:
        key = (r.child_id, r.activity_id, r.day)
        child = children[r.child_id]
        out.append([
            r.day.isoformat(), activities[r.activity_id].code, child.external_id or str(child.id), child.last_name.upper(),
            child.first_name, "oui" if r.present else "non", "oui" if r.unexpected else "non",
            "oui" if key in booked else "non", "oui" if key in absent else "non",
            "oui" if (key in booked and key not in absent and not r.present) else "non",
        ])
    return out


def attended_csv(rows: list[list[object]]) -> str:
    """The period's pointage as CSV."""
    return csv_text(
        ["Date", "Activité", "Enfant (identifiant)", "Nom", "Prénom", "Présent", "Non prévu", "Réservé",
         "Absence déclarée", "Absent sans prévenir"],
        rows,
        delimiter=";",
    )
