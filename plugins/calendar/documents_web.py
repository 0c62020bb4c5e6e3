"""Families' pages of the justificatifs (``/agenda/justificatifs``): the household's absences,
each with its justificatif's state, a form to attach one and the file's download.

Views parse the request, call a service, commit and render; every rule lives in the services
(:mod:`famille_plugins.calendar.services.documents`).
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from famille_core.uploads import Upload
from famille_plugins.calendar.services import documents
from famille_plugins.calendar.services.deadlines import french_long_day
from host_flask.toolkit import (
    Refusal,
    current_actor,
    families_only,
    form_action,
    get_portal,
    request_uow,
)

bp = Blueprint("calendar_documents", __name__, url_prefix="/agenda/justificatifs", template_folder="templates")

DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _page(errors: dict[str | None, list[str]] | None = None, absence_id: int | None = None) -> str:
    rows = documents.household_absences(get_portal(), request_uow(), current_actor())
    return render_template(
        "calendar/documents.html", rows=rows, errors=errors or {}, error_absence=absence_id, long_day=french_long_day
    )


@bp.route("/")
@families_only
def index() -> ResponseReturnValue:
    """The household's absences and their justificatifs."""
    return _page()


@bp.route("/<int:absence_id>", methods=["POST"])
@families_only
def attach(absence_id: int) -> ResponseReturnValue:
    """Attach the file ``file`` to the absence."""
    item: FileStorage | None = request.files.get("file")
    upload = Upload(filename=(item.filename or "") if item else "", data=item.read() if item else b"")

    def refused(refusal: Refusal) -> ResponseReturnValue:
        return _page(refusal.errors, absence_id), refusal.status

    with form_action(refused):
        documents.attach(get_portal(), request_uow(), current_actor(), absence_id, upload)
    flash(_("Justificatif envoyé : la mairie va le vérifier."), "success")
    return redirect(url_for("calendar_documents.index"))


@bp.route("/fichier/<int:document_id>")
@families_only
def download(document_id: int) -> ResponseReturnValue:
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
