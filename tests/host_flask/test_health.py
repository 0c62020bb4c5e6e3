"""``GET /sante`` for load balancers (issue 14, docs/deployment.md "Monitoring"): 200 with the
demo, 503 naming the check when the database is really unreachable or not migrated to head;
public, no personal data, no session cookie."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from famille_core import FixedClock, Portal, settings_from_mapping
from famille_core.persistence import build_sql_portal, make_engine, upgrade_database
from famille_core.persistence.health import shipped_heads
from host_flask import create_app
from tests.conftest import DEFAULT_NOW, login


def _app_on(url: str, settings_data: dict[str, Any], instance_path: Path) -> Flask:
    """The portal served over the database at ``url`` (nothing is created there)."""
    settings = settings_from_mapping({**settings_data, "mail": {"delivery": "worker"}})
    portal = build_sql_portal(
        settings, make_engine(url), clock=FixedClock(DEFAULT_NOW), instance_path=instance_path
    )
    return create_app({"TESTING": True}, portal=portal)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_health_is_ok_with_the_demo_public_and_without_cookie(demo: Portal, app: Flask) -> None:
    client = app.test_client()
    answer = client.get("/sante")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "jobs": "ok"},  # docs/jobs.md
    }
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    # Logged in, the page still neither reads nor refreshes the session.
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    answer = client.get("/sante")
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert "DUPONT" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_health_answers_503_when_the_database_is_down(
    kind: str, settings_data: dict[str, Any], instance_path: Path, tmp_path: Path
) -> None:
    if kind == "postgresql":  # a server that is not running: nothing listens on the port
        url = f"postgresql://postgres@127.0.0.1:{_free_port()}/famille"
    else:  # a database file SQLite cannot open (its folder is gone)
        url = f"sqlite:///{tmp_path / 'gone' / 'famille.sqlite'}"
    answer = _app_on(url, settings_data, instance_path).test_client().get("/sante")
    assert answer.status_code == 503
    assert answer.json == {
        "status": "error",
        "checks": {"database": "error", "migrations": "skipped", "jobs": "ok"},
        "failing": ["database"],
    }


def test_health_answers_503_when_the_migrations_are_not_at_head(
    settings_data: dict[str, Any], instance_path: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'famille.sqlite'}"
    upgrade_database(url)
    app = _app_on(url, settings_data, instance_path)
    assert app.test_client().get("/sante").status_code == 200
    engine = make_engine(url)
    with engine.begin() as connection:  # the code is one migration ahead of the database
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert "0001" not in shipped_heads()
    answer = app.test_client().get("/sante")
    assert answer.status_code == 503
    assert answer.json is not None and answer.json["failing"] == ["migrations"]
    engine.dispose()
