"""The municipality's pages of the calendar plugin (``/gestion/agenda/…``): the queue of
reservation requests to decide, and the day's headcounts and absences.

Views parse the request, call a service, commit and render; every rule lives in the services.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.clock import today_in_paris
from famille_plugins.calendar.services import agents
from famille_plugins.calendar.services.deadlines import french_long_day
from host_flask.toolkit import (
    Refusal,
    agents_only,
    current_actor,
    form_action,
    get_portal,
    moved_pages,
    query_day,
    request_uow,
)

bp = Blueprint("calendar_agents", __name__, url_prefix="/gestion/agenda", template_folder="templates")

moved_bp = moved_pages("calendar_agents_moved", "/agenda/agents", "/gestion/agenda")
"""The agents' pages lived under ``/agenda/agents`` before issue 13: old links still work."""


@bp.route("/demandes")
@agents_only
def requests() -> ResponseReturnValue:
    """The queue of pending requests."""
    rows = agents.pending_requests(request_uow(), current_actor())
    return render_template("calendar/agents/requests.html", rows=rows, long_day=french_long_day, errors={})


@bp.route("/demandes/<int:reservation_id>", methods=["POST"])
@agents_only
def decide(reservation_id: int) -> ResponseReturnValue:
    """Accept, or refuse with a reason."""
    uow = request_uow()
    accept = request.form.get("decision") == "accept"

    def refused(refusal: Refusal) -> ResponseReturnValue:
        rows = agents.pending_requests(uow, current_actor())
        errors = {f"reason-{reservation_id}" if i.field else None: [i.message] for i in refusal.issues}
        page = render_template("calendar/agents/requests.html", rows=rows, long_day=french_long_day, errors=errors)
        return page, refusal.status

    with form_action(refused):
        agents.decide(get_portal(), uow, current_actor(), reservation_id, accept, request.form.get("reason", ""))
    flash(_("Demande acceptée.") if accept else _("Demande refusée."), "success")
    return redirect(url_for("calendar_agents.requests"))


def _day() -> date:
    value = request.args.get("jour")
    if not value:
        return today_in_paris(get_portal().clock)
    return query_day(value) or abort(404)


@bp.route("/effectifs")
@agents_only
def headcount() -> ResponseReturnValue:
    """The day's headcount per activity and school, and the day's absences."""
    day = _day()
    uow, actor = request_uow(), current_actor()
    return render_template(
        "calendar/agents/headcount.html",
        day=day,
        rows=agents.headcount(uow, actor, day),
        absences=agents.absences_of_day(uow, actor, day),
        long_day=french_long_day,
    )


@bp.route("/effectifs.csv")
@agents_only
def headcount_csv() -> ResponseReturnValue:
    """The headcount as a CSV file."""
    day = _day()
    text = agents.headcount_csv(agents.headcount(request_uow(), current_actor(), day), day)
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=effectifs-{day.isoformat()}.csv"},
    )
