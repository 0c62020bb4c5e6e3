"""Public information pages linked from every footer."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, url_for
from flask.typing import ResponseReturnValue
from werkzeug.routing import BuildError

from host_flask.access import public
from host_flask.accessibility import statement_context
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
    """Déclaration d'accessibilité (the RGAA model statement), with a contact through the inbox
    when the inbox plugin is there."""
    try:
        contact_url: str | None = url_for("inbox.new")
    except BuildError:
        contact_url = None
    return render_template(
        "pages/accessibility.html", contact_url=contact_url, **statement_context()
    )


@bp.route("/donnees-personnelles")
@public
def privacy() -> ResponseReturnValue:
    """Données personnelles: purposes, recipients, retention, rights."""
    days = get_portal().settings.portal.health_data_retention_days
    return render_template("pages/privacy.html", retention_days=days)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
