"""The municipality's pages of the calendar plugin (``/gestion/agenda/…``): the queue of
reservation requests to decide, the day's headcounts and absences, the "Liste nominative" and the
"Pointage" of an activity's day, and the queue of justificatifs.

Views parse the request, call a service, commit and render; every rule lives in the services.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.clock import today_in_paris
from famille_core.entities import Activity
from famille_plugins.calendar.services import agents, documents, lists
from famille_plugins.calendar.services.deadlines import french_long_day
from host_flask.toolkit import (
    Refusal,
    agents_only,
    current_actor,
    form_action,
    form_id,
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


# --------------------------------------------------------------------------- Liste nominative


def _activity_id(activities: list[Activity]) -> int:
    value = request.args.get("activite")
    return form_id(value) if value else activities[0].id or 0


def _list_context() -> dict[str, Any]:
    """The chosen activity, day and site, and the named list (health reads audited, committed)."""
    uow, actor = request_uow(), current_actor()
    activities = lists.handled_activities(uow, actor)
    day = _day()
    site = request.args.get("site", "").strip()[:200]
    listing = lists.named_list(get_portal(), uow, actor, _activity_id(activities), day, site)
    uow.commit()
    return {"activities": activities, "listing": listing, "day": day, "site": site, "long_day": french_long_day}


def _list_args(listing: lists.NamedList) -> dict[str, str]:
    args = {"activite": str(listing.activity.id), "jour": listing.day.isoformat()}
    return args | ({"site": listing.site} if listing.site else {})


@bp.route("/liste")
@agents_only
def named_list() -> ResponseReturnValue:
    """Liste nominative: the children of an activity's day, with allergies, PAI, diet and contacts."""
    context = _list_context()
    return render_template("calendar/agents/named_list.html", args=_list_args(context["listing"]), **context)


@bp.route("/liste.pdf")
@agents_only
def named_list_pdf() -> ResponseReturnValue:
    """The named list as a tagged PDF (WeasyPrint, as the invoices and the invitation letters)."""
    from weasyprint import HTML

    context = _list_context()
    html = render_template("calendar/agents/named_list_print.html", **context)
    pdf = HTML(string=html).write_pdf(pdf_tags=True)
    listing = context["listing"]
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=liste-{listing.activity.code}-{listing.day.isoformat()}.pdf"},
    )


@bp.route("/liste.csv")
@agents_only
def named_list_csv() -> ResponseReturnValue:
    """The named list as a CSV file."""
    listing = _list_context()["listing"]
    return Response(
        "\ufeff" + lists.named_list_csv(listing),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=liste-{listing.activity.code}-{listing.day.isoformat()}.csv"},
    )


# --------------------------------------------------------------------------- Pointage


def _pointage_page(errors: dict[str | None, list[str]] | None = None, status: int = 200) -> ResponseReturnValue:
    context = _list_context()
    listing = context["listing"]
    uow, actor = request_uow(), current_actor()
    page = render_template(
        "calendar/agents/attendance.html",
        args=_list_args(listing),
        candidates=lists.unexpected_candidates(uow, actor, listing.activity.id, listing.day, listing.site),
        trace=lists.day_trace(uow, actor, listing.activity.id, listing.day),
        errors=errors or {},
        **context,
    )
    return page, status


@bp.route("/pointage")
@agents_only
def attendance() -> ResponseReturnValue:
    """Pointage: mark each child of the list présent or absent (a phone's page)."""
    return _pointage_page()


def _back_to_pointage() -> ResponseReturnValue:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("activite", "jour", "site")}
    return redirect(url_for("calendar_agents.attendance", **args))


def _refused_pointage(refusal: Refusal) -> ResponseReturnValue:
    request_uow().rollback()
    return _pointage_page(refusal.errors, refusal.status)


@bp.route("/pointage", methods=["POST"])
@agents_only
def mark_attendance() -> ResponseReturnValue:
    """Save the marks of the form (``presence-<child id>`` = ``present`` / ``absent``)."""
    marks = {}
    for key, value in request.form.items():
        if key.startswith("presence-") and value in ("present", "absent"):
            marks[form_id(key.removeprefix("presence-"))] = value == "present"
    activities = lists.handled_activities(request_uow(), current_actor())
    with form_action(_refused_pointage):
        changed = lists.mark_attendance(
            get_portal(), request_uow(), current_actor(), _activity_id(activities), _day(), marks
        )
    flash(_("Pointage enregistré (%(num)d changement(s)).", num=changed), "success")
    return _back_to_pointage()


@bp.route("/pointage/non-prevu", methods=["POST"])
@agents_only
def add_unexpected() -> ResponseReturnValue:
    """Add a child who came without a booking, marked present."""
    activities = lists.handled_activities(request_uow(), current_actor())
    with form_action(_refused_pointage):
        lists.add_unexpected(
            get_portal(), request_uow(), current_actor(), _activity_id(activities), _day(),
            form_id(request.form.get("child_id")),
        )
    flash(_("Enfant non prévu ajouté, marqué présent."), "success")
    return _back_to_pointage()


@bp.route("/presences.csv")
@agents_only
def attendance_csv() -> ResponseReturnValue:
    """The pointage of a period (``du``, ``au``), for billing."""
    today = today_in_paris(get_portal().clock)
    start = query_day(request.args.get("du") or today.replace(day=1).isoformat()) or abort(404)
    end = query_day(request.args.get("au") or today.isoformat()) or abort(404)

    def refused(refusal: Refusal) -> ResponseReturnValue:
        flash(" ".join(refusal.messages), "error")
        return redirect(url_for("calendar_agents.attendance")), 303

    rows: list[list[object]] = []
    with form_action(refused):
        rows = lists.attended_rows(get_portal(), request_uow(), current_actor(), start, end)
    return Response(
        "\ufeff" + lists.attended_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=presences-{start.isoformat()}-{end.isoformat()}.csv"},
    )


# --------------------------------------------------------------------------- Justificatifs


def _queue_page(errors: dict[str | None, list[str]] | None = None, status: int = 200) -> ResponseReturnValue:
    to_decide, late = documents.queue(get_portal(), request_uow(), current_actor())
    page = render_template(
        "calendar/agents/documents.html", rows=to_decide, late=late, errors=errors or {}, long_day=french_long_day
    )
    return page, status


@bp.route("/justificatifs")
@agents_only
def documents_queue() -> ResponseReturnValue:
    """The justificatifs to accept or refuse, and the required ones that are late."""
    return _queue_page()


@bp.route("/justificatifs/<int:document_id>", methods=["POST"])
@agents_only
def decide_document(document_id: int) -> ResponseReturnValue:
    """Accept, or refuse with a reason."""
    accept = request.form.get("decision") == "accept"

    def refused(refusal: Refusal) -> ResponseReturnValue:
        request_uow().rollback()
        errors = {f"reason-{document_id}" if i.field else None: [_(i.message)] for i in refusal.issues}
        return _queue_page(errors, refusal.status)

    with form_action(refused):
        documents.decide(get_portal(), request_uow(), current_actor(), document_id, accept, request.form.get("reason", ""))
    flash(_("Justificatif accepté.") if accept else _("Justificatif refusé."), "success")
    return redirect(url_for("calendar_agents.documents_queue"))


@bp.route("/justificatifs/<int:document_id>/fichier")
@agents_only
def document_file(document_id: int) -> ResponseReturnValue:
    """The justificatif's file, as a download (the read is audited)."""
    from famille_plugins.calendar.web import file_response

    return file_response(document_id)
