"""The two WSGI applications that ``bench/server_bench.py`` serves with gunicorn.

* ``bare_app()``: a one-route Flask application, the yardstick;
* ``portal_app()``: the portal as ``famille serve`` builds it (configuration and database from the
  ``FAMILLE_*`` environment), plus ``/bench-bare``, a route that needs a login and does nothing,
  so the host's own per-request cost (session, user, headers) shows apart from any page's work.
"""

from __future__ import annotations

from flask import Flask


def empty_postgresql(url: str) -> None:
    """Drop every table of the PostgreSQL database at ``url`` (the benches start from zero)."""
    from sqlalchemy import text

    from famille_core.persistence import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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
