"""The tipi_payment plugin's part of the web application: no page of its own (the invoice
pages and the answer routes are the billing plugin's), only PayFiP's origin allowed as a form
target in the Content Security Policy — « Payer en ligne » is a form whose answer redirects
there."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask
from flask.blueprints import BlueprintSetupState

from famille_plugins.tipi_payment.settings import settings_of
from host_flask.toolkit import add_csp_source, get_portal

bp = Blueprint("tipi_payment", __name__)


@bp.record_once
def allow_payfip(state: BlueprintSetupState) -> None:
    """PayFiP's origin in the CSP ``form-action`` of the application."""
    app = cast(Flask, state.app)
    with app.app_context():
        origin = settings_of(get_portal()).origin
    add_csp_source(app, "form-action", origin)
