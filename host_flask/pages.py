"""Public information pages linked from every footer."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue

from host_flask.access import public
from host_flask.context import get_portal

bp = Blueprint("pages", __name__)


@bp.route("/mentions-legales")
@public
def legal() -> ResponseReturnValue:
    """Mentions légales."""
    return render_template("pages/legal.html")


@bp.route("/accessibilite")
@public
def accessibility() -> ResponseReturnValue:
    """Déclaration d'accessibilité."""
    return render_template("pages/accessibility.html")


@bp.route("/donnees-personnelles")
@public
def privacy() -> ResponseReturnValue:
    """Données personnelles: purposes, recipients, retention, rights."""
    days = get_portal().settings.portal.health_data_retention_days
    return render_template("pages/privacy.html", retention_days=days)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
