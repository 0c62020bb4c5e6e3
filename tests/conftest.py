"""Shared fixtures: a real database (SQLite by default, PostgreSQL with
``FAMILLE_TEST_DATABASE_URL``), a portal, the Flask app, and logged-in clients.

The schema is built once per session **through the Alembic migrations** (so every run tests them)
and emptied after each test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text

from famille_core import FixedClock, Portal, settings_from_mapping
from famille_core.clock import PARIS
from famille_core.persistence import build_sql_portal, make_engine, upgrade_database
from famille_core.persistence.tables import metadata
from famille_core.settings import Settings

# Monday 16 November 2026, 09:00 in Paris: a school day, far from holidays and clock changes.
DEFAULT_NOW = datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)

pytest_plugins = ["tests.e2e_fixtures"]


def pytest_report_header() -> str:
    return f"database: {_redacted(_database_url_from_env() or 'SQLite (temporary file)')}"


def _database_url_from_env() -> str | None:
    return os.environ.get("FAMILLE_TEST_DATABASE_URL") or None


def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, migrated to head once per session."""
    url = _database_url_from_env()
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'famille-test.sqlite'}"
    else:
        url = _own_database_per_worker(url)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        # Start from an empty schema so that the migrations really run from zero.
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade_database(url)
    return url


def _own_database_per_worker(url: str) -> str:
    """Under pytest-xdist (``make test`` runs the suite on every core) each worker process gets a
    database of its own on the same server, ``<name>_gw0``, ``<name>_gw1``…, created if missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    server = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _no_mail_sender_outlives_its_test() -> Iterator[None]:
    """A portal with ``[mail] delivery = "background"`` starts a sender thread at its first
    request; stop it with the test, or it would poll (and send) in the middle of later tests —
    the query-count tests would count its statements."""
    yield
    from famille_core.mail_queue import stop_all_senders

    stop_all_senders()


@pytest.fixture
def clock() -> FixedClock:
    """A clock stopped at :data:`DEFAULT_NOW`; tests move it with ``clock.advance``."""
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def settings_data() -> dict[str, Any]:
    """The raw configuration of the test portal; override to change it."""
    return {
        "collectivity": {
            "name": "Commune d'Harmonie",
            "school_zone": "A",
            "services": ["ENFANCE", "SCOLAIRE"],
        },
        "regies": [{"code": "default", "name": "Régie enfance", "numcli": "021289"}],
        "portal": {"secret_key": "test-secret-key-not-for-production"},
    }


@pytest.fixture
def settings(settings_data: dict[str, Any]) -> Settings:
    # Tests send the mail queue themselves (tests/mail_helpers.py) rather than race a background
    # sender; the tests of that sender set [mail] delivery themselves.
    mail = {"delivery": "worker", **settings_data.get("mail", {})}
    return settings_from_mapping({**settings_data, "mail": mail})


@pytest.fixture
def extra_plugins() -> list[object]:
    """Extra plugin objects registered in the test portal; override to add some."""
    return []


@pytest.fixture
def portal(
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    instance_path: Path,
    extra_plugins: list[object],
) -> Iterator[Portal]:
    """A portal over the empty test database."""
    portal = build_sql_portal(
        settings, engine, clock=clock, instance_path=instance_path, extra_plugins=extra_plugins
    )
    yield portal
    _empty(engine)


@pytest.fixture
def demo(portal: Portal) -> Portal:
    """The portal with the demo data (the DUPONT family and the others)."""
    from famille_core.demo import populate

    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
    return portal


@pytest.fixture
def app(portal: Portal) -> Flask:
    app = __import__("host_flask").create_app({"TESTING": True}, portal=portal)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/connexion") -> str:
    """A CSRF token read from a page, as a browser would."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str) -> Any:
    """Log ``client`` in through the real login form."""
    token = csrf_token(client)
    return client.post(
        "/connexion", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def parent_client(demo: Portal, app: Flask) -> FlaskClient:
    """The demo parent (Marie DUPONT), logged in."""
    client = app.test_client()
    response = login(client, "parent@example.org", "parent-demo-password")
    assert response.status_code == 302
    return client


@pytest.fixture
def agent_client(demo: Portal, app: Flask) -> FlaskClient:
    """The demo agent (Magnus, ENFANCE), logged in."""
    client = app.test_client()
    response = login(client, "agent@example.org", "agent-demo-password")
    assert response.status_code == 302
    return client


@pytest.fixture
def admin_client(demo: Portal, app: Flask) -> FlaskClient:
    """The demo administrator (Alice), logged in."""
    client = app.test_client()
    response = login(client, "admin@example.org", "alice-demo-password")
    assert response.status_code == 302
    return client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency tests need PostgreSQL: they skip, saying so, on SQLite."""
    url = _database_url_from_env() or ""
    if url.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set FAMILLE_TEST_DATABASE_URL (CI does)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def agent_of_service(portal: Portal, app: Flask, service: str) -> FlaskClient:
    """A new agent of ``service`` (Sam), logged in: to check what agents of other services may
    not open."""
    from famille_core.entities import Role
    from famille_core.services.accounts import create_user

    email = f"{service.lower()}@example.org"
    with portal.unit_of_work() as uow:
        create_user(portal, uow, email=email, password="sam-agent-password-long",
                    role=Role.AGENT, display_name="Sam", service=service)
        uow.commit()
    client = app.test_client()
    assert login(client, email, "sam-agent-password-long").status_code == 302
    return client
