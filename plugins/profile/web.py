"""Pages of the profile plugin."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("profile", __name__, url_prefix="/compte", template_folder="templates")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Mon compte."""
    return render_template("profile/index.html")
