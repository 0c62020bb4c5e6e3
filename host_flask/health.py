"""``GET /sante``: the health page load balancers and monitoring call (docs/deployment.md,
"Monitoring").

200 with ``{"status": "ok", "checks": {...}}`` when every check passes, 503 with
``{"status": "error", "checks": {...}, "failing": [...]}`` otherwise. Public (a load balancer
has no account), read-only, no personal data, never cached, and it neither reads nor sets the
session cookie (:func:`host_flask.sessions.install` leaves the blueprint alone).
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from famille_core.persistence.health import check_health
from host_flask.access import public
from host_flask.context import get_portal

bp = Blueprint("health", __name__)


@bp.route("/sante")
@public
def health() -> ResponseReturnValue:
    """The portal's health: every check by name, 503 naming the failing ones."""
    report = check_health(get_portal())
    body: dict[str, object] = {
        "status": "ok" if report.healthy else "error",
        "checks": dict(report.checks),
    }
    if not report.healthy:
        body["failing"] = report.failing
    response = jsonify(body)
    response.status_code = 200 if report.healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
