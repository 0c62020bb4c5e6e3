"""The host loads the blueprints and menu entries of the enabled plugins only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from host_flask import create_app
from tests.conftest import login


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"] = {
        **settings_data["portal"],
        "plugins": ["profile", "inbox", "billing", "tipi_payment"],
    }
    return settings_data


def test_disabled_plugin_has_no_menu_entry_and_no_routes(demo, app) -> None:  # type: ignore[no-untyped-def]
    client: FlaskClient = app.test_client()
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Mon compte" in home and "Factures" in home
    assert "Agenda" not in home
    assert client.get("/agenda/").status_code == 404
    assert not any(rule.endpoint.startswith("calendar.") for rule in app.url_map.iter_rules())
    assert "calendar" not in app.blueprints


def test_theme_folder_overrides_a_template(demo, tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    (theme / "pages").mkdir(parents=True)
    (theme / "pages" / "legal.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Mentions de la commune</h1>{% endblock %}',
        encoding="utf-8",
    )
    from attrs import evolve

    demo.settings = evolve(demo.settings, portal=evolve(demo.settings.portal, theme_dir=str(theme)))
    app = create_app({"TESTING": True}, portal=demo)
    page = app.test_client().get("/mentions-legales").get_data(as_text=True)
    assert "Mentions de la commune" in page
    assert 'lang="fr"' in page  # still the portal's own base layout
