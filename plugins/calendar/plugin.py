"""Hook implementations of the calendar plugin: Agenda: daily reservations and absences with reasons."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import ClosedDay, HomePanel, MenuItem
from famille_plugins.calendar.settings import NAME, CalendarSettings, settings_of

if TYPE_CHECKING:
    from famille_core.entities import AbsenceReason, Activity, Actor, Child
    from famille_core.hooks.results import EventPolicy, ExportKind
    from famille_core.portal import Portal
    from famille_core.uow import UnitOfWork


@hookimpl
def plugin_settings() -> tuple[str, type]:
    return NAME, CalendarSettings


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        return [MenuItem(label="Demandes et effectifs", endpoint="calendar_agents.requests", order=40, agent=True)]
    return [MenuItem(label="Agenda", endpoint="calendar.index", order=40)]


@hookimpl
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """Parents: the next days booked, requested or declared absent (an absence supersedes the
    booking, as in the Agenda), and the justificatifs still to send for past absences; agents:
    how many requests wait for a decision."""
    from famille_plugins.calendar.services.agenda import upcoming
    from famille_plugins.calendar.services.agents import pending_count
    from famille_plugins.calendar.services.deadlines import french_long_day

    if actor.is_agent:
        pending = pending_count(uow, actor)
        return [
            HomePanel(
                title="Demandes de réservation",
                template="calendar/agents/home_panel.html",
                context={"pending": pending},
                order=40,
            )
        ]
    if actor.family_id is None:
        return []
    from famille_plugins.calendar.services.documents import missing_documents

    days = [(french_long_day(u.day), u.lines) for u in upcoming(portal, uow, actor)]
    panels = [HomePanel(title="Agenda", template="calendar/home_panel.html", context={"days": days}, order=40)]
    missing = [(row.child.first_name, french_long_day(row.absence.day), row.absence.reason_label, french_long_day(row.due))
               for row in missing_documents(portal, uow, actor) if row.due is not None]
    if missing:
        panels.append(
            HomePanel(
                title="Justificatifs à fournir",
                template="calendar/documents_panel.html",
                context={"missing": missing},
                order=41,
            )
        )
    return panels


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.calendar.agents_web import bp as agents_bp
    from famille_plugins.calendar.agents_web import moved_bp
    from famille_plugins.calendar.web import bp

    return [bp, agents_bp, moved_bp]


@hookimpl(trylast=True)
def reservation_deadline(portal: Portal, activity: Activity, day: date) -> datetime | None:
    """The configured rule (J-N at HH:MM, or a weekday of the previous week)."""
    from famille_plugins.calendar.services.deadlines import deadline_from_rule

    return deadline_from_rule(portal, settings_of(portal).deadline_for(activity.code), day)


@hookimpl(trylast=True)
def cancellation_deadline(portal: Portal, activity: Activity, day: date) -> datetime | None:
    """The configured cancellation rule; the reservation rule when none is set."""
    from famille_plugins.calendar.services.deadlines import deadline_from_rule

    settings = settings_of(portal)
    if activity.code not in settings.activity_cancellations and settings.cancellation is None:
        return None
    return deadline_from_rule(portal, settings.cancellation_for(activity.code), day)


@hookimpl
def closed_days(portal: Portal, activity: Activity, start: date, end: date) -> Iterable[ClosedDay]:
    """Public holidays, school holidays of the zone, municipal closures."""
    from famille_plugins.calendar.services.calendar_days import builtin_closed_days

    return builtin_closed_days(portal, settings_of(portal), start, end)


@hookimpl
def absence_reasons(
    portal: Portal, child: Child | None, activity: Activity | None
) -> Sequence[AbsenceReason]:
    """Reasons added by the configuration (``absence_reasons_mode = "extend"``)."""
    settings = settings_of(portal)
    return [r.to_reason() for r in settings.absence_reasons]


@hookimpl(wrapper=True, specname="absence_reasons")
def absence_reasons_wrapper(
    portal: Portal, child: Child | None, activity: Activity | None
) -> Generator[None, list[Sequence[AbsenceReason]], list[Sequence[AbsenceReason]]]:
    """``absence_reasons_mode = "replace"``: the configured list is the whole list."""
    answers = yield
    settings = settings_of(portal)
    if settings.absence_reasons_mode == "replace" and settings.absence_reasons:
        return [[r.to_reason() for r in settings.absence_reasons]]
    return answers



@hookimpl
def populate_demo(portal: Portal, uow: UnitOfWork) -> None:
    """A few days booked and one absence for the demo family, so the agenda is not empty, and a
    past day of the canteen with its pointage."""
    from famille_plugins.calendar.demo import populate, populate_attendance

    populate(portal, uow)
    populate_attendance(portal, uow)



@hookimpl
def family_data_sections(portal: Portal, uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """"Mes données": the household's bookings, absences and calendar subscriptions."""
    from famille_plugins.calendar.services.data import family_sections

    return family_sections(uow, family_id)


@hookimpl
def export_kinds(portal: Portal) -> Sequence[ExportKind]:
    """``famille export reservations`` and ``famille export absences``."""
    from famille_plugins.calendar.services.data import EXPORT_KINDS

    return EXPORT_KINDS


@hookimpl
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """Reservations requested, accepted, refused, cancelled; absences declared, withdrawn."""
    from famille_plugins.calendar.services.data import EVENT_POLICIES

    return EVENT_POLICIES


@hookimpl
def api_operations(portal: Portal) -> Sequence[Any]:
    """``GET /reservations`` and ``GET /absences`` of a period, for the ERP."""
    from famille_plugins.calendar.api import OPERATIONS

    return OPERATIONS
