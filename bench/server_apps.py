"""The two WSGI applications that ``bench/server_bench.py`` serves with gunicorn.

* ``bare_app()``: a one-route Flask application, the yardstick;
* ``portal_app()``: the portal as ``famille serve`` builds it (configuration and database from the
  ``FAMILLE_*`` environment), plus ``/bench-bare``, a route that needs a login and does nothing,
  so the host's own per-request cost (session, user, headers) shows apart from any page's work.
"""

from __future__ import annotations

from flask import Flask


def bare_app() -> Flask:
    """One route, nothing else."""
    app = Flask("bare")

    @app.route("/")
    def index() -> str:
        return "ok"

    return app


def portal_app() -> Flask:
    """The portal, with a logged-in do-nothing route."""
    from host_flask import create_app

    app = create_app()

    @app.route("/bench-bare")
    def bench_bare() -> str:
        return "ok"

    return app
