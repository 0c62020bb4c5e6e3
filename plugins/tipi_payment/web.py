"""Pages of the tipi_payment plugin."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("tipi_payment", __name__, url_prefix="/factures", template_folder="templates")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Factures."""
    return render_template("tipi_payment/index.html")
