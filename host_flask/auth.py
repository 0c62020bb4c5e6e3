"""Logging in and out: the ``auth`` blueprint, put together from its three modules.

:mod:`host_flask.sessions` (sessions and access, deny by default), :mod:`host_flask.login`
(login, second factor, re-authentication) and :mod:`host_flask.password_reset` (forgotten, reset
and changed passwords) each add their routes to the one blueprint; importing them here, before
the blueprint is registered, is what makes them part of it.
"""

from __future__ import annotations

from flask import Flask

from host_flask import activation, login, password_reset, sessions

ROUTES = (sessions, login, password_reset, activation)
"""The modules whose routes make up the ``auth`` blueprint."""


def init_app(app: Flask) -> None:
    """Register the ``auth`` blueprint with every route and check each request's session."""
    app.register_blueprint(sessions.bp)
    sessions.install(app)
