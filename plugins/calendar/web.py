"""Pages of the calendar plugin."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("calendar", __name__, url_prefix="/agenda", template_folder="templates")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Agenda."""
    return render_template("calendar/index.html")
