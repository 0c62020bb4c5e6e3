"""Families' pages of the calendar plugin: the Agenda (``/agenda/…``) and its private iCalendar feed.

Views parse the request, call a service, commit and render; every rule lives in the services.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from attrs import frozen
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from famille_core import french
from famille_core.clock import today_in_paris
from famille_core.services import acting
from famille_core.uploads import Upload
from famille_plugins.calendar.services import absences, agenda, booking, documents, feeds, household
from famille_plugins.calendar.services.closures import grouped_closures
from famille_plugins.calendar.services.context import LEGEND
from famille_plugins.calendar.services.deadlines import french_long_day, french_month
from famille_plugins.calendar.services.reasons import reasons_for
from famille_plugins.calendar.settings import settings_of
from host_flask.toolkit import (
    Refusal,
    cached_page,
    current_actor,
    families_only,
    form_action,
    form_day,
    form_id,
    get_portal,
    open_to_acting_agents,
    optional_form_id,
    public,
    query_day,
    request_uow,
)

bp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/agenda",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

WEEKDAY_VALUES = {str(day) for day in range(7)}
"""The weekdays a semaine type form sends (0 = Monday); anything else is ignored."""
WEEKDAY_NAMES = french.DAY_NAMES


def _month(value: str | None) -> date:
    day = query_day(f"{value}-01") if value else None
    return day or today_in_paris(get_portal().clock).replace(day=1)


def _agenda_url(child_id: int | None, day: date | None, anchor: str = "jour") -> str:
    args: dict[str, Any] = {}
    if child_id is not None:
        args["enfant"] = child_id
    if day is not None:
        args["mois"] = f"{day:%Y-%m}"
        args["jour"] = day.isoformat()
    return url_for("calendar.index", **args) + (f"#{anchor}" if day is not None else "")


@frozen(kw_only=True)
class GridCell:
    """One day of the month grid, ready to print: the template only pastes these values (one
    ``url_for`` and one date format per page instead of one per cell, docs/deployment.md,
    "Fast pages")."""

    day: date
    iso: str
    css: str
    href: str
    long_day: str
    states: str
    """The states in words, for the day's accessible name (after the day and "aujourd'hui")."""
    day_name: str
    is_today: bool
    is_selected: bool
    badges: tuple[tuple[str, str], ...]
    """``(state code, words)`` of the day's marks, each shown with its icon."""


SHOWN_NOT = ("not_enrolled", "closed")
SHOWN_NOT_SET = frozenset(SHOWN_NOT)


def _grid(view: agenda.MonthView, today: date, selected: date | None) -> list[list[GridCell]]:
    """The month grid's cells as the template prints them."""
    child = view.child
    if child is None:
        return []
    base = f"{url_for('calendar.index')}?enfant={child.id}&mois="
    closed_words = _("fermé")
    weeks = []
    for week in view.weeks:
        row = []
        for cell in week:
            day = cell.day
            # One pass over the day's states (42 cells a page): the marks shown, the accessible
            # words, the codes for the cell's classes.
            shown: list[tuple[str, str]] = []
            words: list[str] = []
            codes = set()
            for activity, state in cell.states:
                code = state.code
                codes.add(code)
                said = f"{activity.label} : {state.words}"
                words.append(said)
                if code not in SHOWN_NOT:
                    shown.append((code, said))
            if not shown and "closed" in codes:
                shown.append(("closed", closed_words))
            css = "" if cell.in_month else "other-month"
            if day == today:
                css += " today"
            if day == selected:
                css += " selected"
            if codes <= SHOWN_NOT_SET:
                css += " closed"
            for code in ("booked", "requested", "absent"):
                if code in codes:
                    css += f" {code}"
                    break
            iso = day.isoformat()
            row.append(
                GridCell(
                    day=day,
                    iso=iso,
                    css=css,
                    href=f"{base}{iso[:7]}&jour={iso}",
                    long_day=french_long_day(day),
                    states="".join(f", {said}" for said in words),
                    day_name=WEEKDAY_NAMES[day.weekday()],
                    is_today=day == today,
                    is_selected=day == selected,
                    badges=tuple(shown),
                )
            )
        weeks.append(row)
    return weeks


def _icons() -> dict[str, Markup]:
    """Each state's icon (``calendar/icons.html``), rendered once per application."""
    icons: dict[str, Markup] | None = current_app.extensions.get("famille_calendar_icons")
    if icons is None:
        macro = get_template_attribute("calendar/icons.html", "icon")
        icons = {code: macro(code) for code, _words in LEGEND}
        current_app.extensions["famille_calendar_icons"] = icons
    return icons


def _render_agenda(
    child_id: int | None,
    month: date,
    selected: date | None,
    errors: dict[str | None, list[str]] | None = None,
    form: dict[str, str] | None = None,
    pattern: list[booking.PatternOutcome] | None = None,
    new_feed_url: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    portal = get_portal()
    uow = request_uow()
    actor = current_actor()
    view = agenda.month_view(portal, uow, actor, child_id, month)
    cell = view.cell(selected) if selected is not None else None
    feed = feeds.active_feed(uow, actor, view.child.id) if view.child and view.child.id else None
    closures = grouped_closures(portal, view.activities, view.month, agenda.month_end(view.month))
    # An agent acting for the family may book or cancel past the deadline, with a reason.
    overridable = {a.id for a in view.activities if acting.may_override_deadline(actor, a.service)}
    today = today_in_paris(portal.clock)
    return (
        render_template(
            "calendar/index.html",
            view=view,
            selected=selected,
            cell=cell,
            legend=LEGEND,
            closures=closures,
            reasons=reasons_for(portal, view.child),
            errors=errors or {},
            form=form or {},
            pattern=pattern,
            weekday_names=WEEKDAY_NAMES,
            feed=feed,
            new_feed_url=new_feed_url,
            today=today,
            grid=_grid(view, today, selected),
            icons=_icons(),
            long_day=french_long_day,
            month_title=french_month,
            overridable=overridable,
            household=actor.family_id,
            by_town=agenda.done_by_town(uow, cell),
        ),
        status,
    )


@bp.route("/")
@open_to_acting_agents
@families_only
@cached_page
def index() -> ResponseReturnValue:
    """Agenda: the month grid of one child, and the actions of the selected day."""
    child_id = optional_form_id(request.args.get("enfant"))
    selected = query_day(request.args.get("jour"))
    month = selected.replace(day=1) if selected else _month(request.args.get("mois"))
    return _render_agenda(child_id, month, selected)


Answer = Callable[[], ResponseReturnValue]


def _submit(
    child_id: int | None,
    first_date: tuple[str, str, str] | None,
    act: Callable[[date | None], Answer],
) -> ResponseReturnValue:
    """Run one form action: parse its first date (``(field, form key, label)``), call the
    service, commit, then answer. A refusal or a lost race writes nothing and shows why: the
    page again with the French messages (422), the problem document for a machine."""
    day: date | None = None

    def refused(refusal: Refusal) -> ResponseReturnValue:
        month = (day or today_in_paris(get_portal().clock)).replace(day=1)
        form = {k: v for k, v in request.form.items() if k != "csrf_token"}
        return _render_agenda(child_id, month, day, errors=refusal.errors, form=form, status=422)

    with form_action(refused):
        if first_date is not None:
            field, key, label = first_date
            day = form_day(field, request.form.get(key), label)
        answer = act(day)
    return answer()


def _flash_and_return(message: str, child_id: int, day: date) -> Answer:
    def answer() -> ResponseReturnValue:
        flash(message, "success")
        return redirect(_agenda_url(child_id, day))

    return answer


@bp.route("/reserver", methods=["POST"])
@open_to_acting_agents
@families_only
def reserve() -> ResponseReturnValue:
    """Réserver: one day of one activity."""
    child_id = form_id(request.form.get("child_id"))

    def act(day: date | None) -> Answer:
        assert day is not None
        reservation = booking.reserve(
            get_portal(), request_uow(), current_actor(), child_id, form_id(request.form.get("activity_id")), day,
            override_reason=request.form.get("override_reason", ""),
        )
        words = _("réservé") if reservation.state == "accepted" else _("demande en cours")
        return _flash_and_return(_("%(day)s : %(state)s.", day=french_long_day(day), state=words), child_id, day)

    return _submit(child_id, ("day", "day", _("Jour")), act)


@bp.route("/annuler", methods=["POST"])
@open_to_acting_agents
@families_only
def cancel() -> ResponseReturnValue:
    """Annuler la réservation."""

    def act(_day: date | None) -> Answer:
        reservation = booking.cancel(
            get_portal(), request_uow(), current_actor(), form_id(request.form.get("reservation_id")),
            override_reason=request.form.get("override_reason", ""),
        )
        message = _("%(day)s : réservation annulée.", day=french_long_day(reservation.day))
        return _flash_and_return(message, reservation.child_id, reservation.day)

    return _submit(optional_form_id(request.form.get("child_id")), None, act)


@bp.route("/absence", methods=["POST"])
@open_to_acting_agents
@families_only
def declare_absence() -> ResponseReturnValue:
    """Déclarer une absence: one day or a range, a reason, an optional comment."""
    child_id = form_id(request.form.get("child_id"))

    def act(start: date | None) -> Answer:
        assert start is not None
        end = form_day("end", request.form.get("end") or request.form.get("start"), _("Au"))
        declared = absences.declare_absence(
            get_portal(),
            request_uow(),
            current_actor(),
            child_id,
            start,
            end,
            request.form.get("reason", ""),
            request.form.get("comment", ""),
            optional_form_id(request.form.get("activity_id")),
        )
        message = _(
            "Absence enregistrée (%(reason)s) : %(count)d jour(s) à partir du %(day)s.",
            reason=declared[0].reason_label,
            count=len({a.day for a in declared}),
            day=french_long_day(start),
        )
        return _flash_and_return(message, child_id, start)

    return _submit(child_id, ("start", "start", _("Du")), act)


@bp.route("/absence/retirer", methods=["POST"])
@open_to_acting_agents
@families_only
def withdraw_absence() -> ResponseReturnValue:
    """Withdraw an absence of a day to come."""

    def act(_day: date | None) -> Answer:
        absence = absences.withdraw_absence(
            get_portal(), request_uow(), current_actor(), form_id(request.form.get("absence_id"))
        )
        message = _("%(day)s : absence retirée.", day=french_long_day(absence.day))
        return _flash_and_return(message, absence.child_id, absence.day)

    return _submit(optional_form_id(request.form.get("child_id")), None, act)


@bp.route("/semaine-type", methods=["POST"])
@open_to_acting_agents
@families_only
def pattern() -> ResponseReturnValue:
    """Semaine type: chosen weekdays over a range, answered day by day."""
    child_id = form_id(request.form.get("child_id"))

    def act(start: date | None) -> Answer:
        assert start is not None
        outcomes = booking.reserve_pattern(
            get_portal(),
            request_uow(),
            current_actor(),
            child_id,
            form_id(request.form.get("activity_id")),
            [int(d) for d in request.form.getlist("weekdays") if d in WEEKDAY_VALUES],
            start,
            form_day("pattern_end", request.form.get("end"), _("Au")),
        )
        booked = sum(1 for o in outcomes if o.booked)

        def answer() -> ResponseReturnValue:
            flash(_("Semaine type : %(booked)d jour(s) réservé(s) sur %(total)d.", booked=booked, total=len(outcomes)), "success")
            return _render_agenda(child_id, start.replace(day=1), None, pattern=outcomes)

        return answer

    return _submit(child_id, ("pattern_start", "start", _("Du")), act)


@bp.route("/abonnement", methods=["POST"])
@families_only
def subscription() -> ResponseReturnValue:
    """Create (or replace) or revoke the private iCalendar URL of a child, or of the whole
    household when the form names no child."""
    child_id = optional_form_id(request.form.get("child_id"))
    portal, uow, actor = get_portal(), request_uow(), current_actor()
    page = url_for("calendar.index", enfant=child_id) if child_id else url_for("calendar.household_index")
    if request.form.get("action") == "revoke":
        feeds.revoke_feed(portal, uow, actor, child_id)
        uow.commit()
        flash(_("Le lien d'abonnement est révoqué : il ne fonctionne plus."), "success")
        return redirect(page + "#abonnement")
    token = feeds.create_feed(portal, uow, actor, child_id)
    uow.commit()
    url = url_for("calendar.ical", token=token, _external=True)
    flash(_("Nouveau lien d'abonnement créé ; l'ancien ne fonctionne plus."), "success")
    if child_id is None:
        return _render_household("semaine", None, new_feed_url=url)
    return _render_agenda(child_id, _month(None), None, new_feed_url=url)


@bp.route("/ical/<token>.ics")
@public
def ical(token: str) -> ResponseReturnValue:
    """The private iCalendar feed (no login: the secret URL is the key)."""
    portal = get_portal()
    body = feeds.feed_ics(portal, request_uow(), token, settings_of(portal).feed_days_back)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline; filename=agenda.ics"},
    )


# The household's Agenda: every child at once (issue 17, point 3).

VIEWS = ("semaine", "mois")


def _period(view: str, value: str | None) -> tuple[date, date]:
    """The week (Monday to Sunday) or month shown, from ``du`` (a day) or today."""
    day = query_day(value) or today_in_paris(get_portal().clock)
    if view == "mois":
        first = day.replace(day=1)
        return first, agenda.month_end(first)
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _render_household(
    view_name: str,
    start_value: str | None,
    outcomes: list[household.Outcome] | None = None,
    errors: dict[str | None, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
    new_feed_url: str | None = None,
) -> ResponseReturnValue:
    portal, uow, actor = get_portal(), request_uow(), current_actor()
    view_name = view_name if view_name in VIEWS else "semaine"
    start, end = _period(view_name, start_value)
    view = household.household_view(portal, uow, actor, start, end)
    activities = {a.id: a for d in view.days for c in d.children for a, _ in c.states}
    if view_name == "mois":
        previous, following = (start - timedelta(days=1)).replace(day=1), end + timedelta(days=1)
    else:
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
    return (
        render_template(
            "calendar/household.html",
            view=view,
            view_name=view_name,
            previous=previous,
            following=following,
            closures=grouped_closures(portal, activities.values(), start, end),
            outcomes=outcomes,
            errors=errors or {},
            form=form or {},
            reasons=reasons_for(portal, None),
            feed=feeds.active_feed(uow, actor, None),
            new_feed_url=new_feed_url,
            today=today_in_paris(portal.clock),
            long_day=french_long_day,
            month_title=french_month,
            legend=LEGEND,
        ),
        status,
    )


@bp.route("/foyer")
@open_to_acting_agents
@families_only
def household_index() -> ResponseReturnValue:
    """The household's Agenda: every child and activity over a week or a month."""
    return _render_household(request.args.get("vue", "semaine"), request.args.get("du"))


def _household_submit(act: Callable[[], list[household.Outcome]], done: str) -> ResponseReturnValue:
    """Run a household action; the page again with each day's result, or with why nothing was done."""
    view_name, start_value = request.form.get("vue", "semaine"), request.form.get("du")

    def refused(refusal: Refusal) -> ResponseReturnValue:
        form: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token"}
        form["enfants"] = request.form.getlist("enfants")
        form["choix"] = request.form.getlist("choix")
        return _render_household(view_name, start_value, errors=refusal.errors, form=form, status=422)

    with form_action(refused):
        outcomes = act()
    flash(done % {"done": sum(1 for o in outcomes if o.done), "total": len(outcomes)}, "success")
    return _render_household(view_name, start_value, outcomes=outcomes)


def _choice(value: str) -> tuple[int, int, date]:
    """``child_id:activity_id:YYYY-MM-DD`` of a box of the household's Agenda (404 otherwise)."""
    child, _sep, rest = value.partition(":")
    activity, _sep, day = rest.partition(":")
    parsed = query_day(day)
    if parsed is None:
        abort(404)
    return form_id(child), form_id(activity), parsed


@bp.route("/foyer/reserver", methods=["POST"])
@open_to_acting_agents
@families_only
def household_reserve() -> ResponseReturnValue:
    """Réserver the chosen boxes (children, activities, days) in one action."""
    choices = [_choice(v) for v in request.form.getlist("choix")]
    return _household_submit(
        lambda: household.reserve_many(get_portal(), request_uow(), current_actor(), choices),
        _("Réservation : %(done)d case(s) réservée(s) ou demandée(s) sur %(total)d."),
    )


@bp.route("/foyer/absence", methods=["POST"])
@open_to_acting_agents
@families_only
def household_absence() -> ResponseReturnValue:
    """Déclarer une absence for the chosen children over a period, in one action."""
    child_ids = [form_id(v) for v in request.form.getlist("enfants")]

    def act() -> list[household.Outcome]:
        start = form_day("start", request.form.get("start"), _("Du"))
        end = form_day("end", request.form.get("end") or request.form.get("start"), _("Au"))
        return household.declare_many(
            get_portal(),
            request_uow(),
            current_actor(),
            child_ids,
            start,
            end,
            request.form.get("reason", ""),
            request.form.get("comment", ""),
        )

    return _household_submit(act, _("Absence : %(done)d jour(s) enregistré(s) sur %(total)d."))


# --------------------------------------------------------------------------- justificatifs
# The household's absences, each with its justificatif's state, a form to attach one and the
# file's download (docs/calendar.md, "Justificatifs"); every rule is in services/documents.py.

DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _documents_page(errors: dict[str | None, list[str]] | None = None, absence_id: int | None = None) -> str:
    rows = documents.household_absences(get_portal(), request_uow(), current_actor())
    return render_template(
        "calendar/documents.html", rows=rows, errors=errors or {}, error_absence=absence_id, long_day=french_long_day
    )


@bp.route("/justificatifs/")
@families_only
def documents_index() -> ResponseReturnValue:
    """The household's absences and their justificatifs."""
    return _documents_page()


@bp.route("/justificatifs/<int:absence_id>", methods=["POST"])
@families_only
def documents_attach(absence_id: int) -> ResponseReturnValue:
    """Attach the file ``file`` to the absence."""
    item = request.files.get("file")
    upload = Upload(filename=(item.filename or "") if item else "", data=item.read() if item else b"")

    def refused(refusal: Refusal) -> ResponseReturnValue:
        return _documents_page(refusal.errors, absence_id), refusal.status

    with form_action(refused):
        documents.attach(get_portal(), request_uow(), current_actor(), absence_id, upload)
    flash(_("Justificatif envoyé : la mairie va le vérifier."), "success")
    return redirect(url_for("calendar.documents_index"))


@bp.route("/justificatifs/fichier/<int:document_id>")
@families_only
def documents_download(document_id: int) -> ResponseReturnValue:
    """The household's own justificatif, as a download."""
    return file_response(document_id)


def file_response(document_id: int) -> ResponseReturnValue:
    """A justificatif as a download: never cached, never sniffed, never shown inline (the
    reading agent is audited by the service)."""
    uow = request_uow()
    document, data = documents.document_file(get_portal(), uow, current_actor(), document_id)
    uow.commit()
    response = Response(data, mimetype=document.content_type, headers=DOWNLOAD_HEADERS)
    response.headers.set("Content-Disposition", "attachment", filename=document.filename)
    return response
