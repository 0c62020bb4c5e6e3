"""Pages of the inbox plugin."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("inbox", __name__, url_prefix="/messages", template_folder="templates")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Boîte de réception."""
    return render_template("inbox/index.html")
