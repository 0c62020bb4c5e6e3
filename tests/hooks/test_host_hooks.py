"""The web host's hooks and the configuration's, through the host: blueprints, menu and home
page of every enabled plugin, demo data, and plugin settings read at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from flask import Blueprint, Flask, template_rendered

from famille_core import ConfigurationError, Portal, build_portal, hookimpl, settings_from_mapping
from famille_core.entities import Activity, Actor, Role
from famille_core.hooks.results import HomePanel, MenuItem
from host_flask import create_app
from host_flask.home import menu_for
from tests.conftest import login

# --------------------------------------------------------------------------- configuration


@frozen
class EssaiSettings:
    seuil: int = 3


class Essai:
    @hookimpl
    def plugin_settings(self) -> tuple[str, type]:
        return "essai", EssaiSettings


class SameName:
    @hookimpl
    def plugin_settings(self) -> tuple[str, type]:
        return "essai", EssaiSettings


def _portal(plugins: dict[str, Any], *extra: object) -> Portal:
    settings = settings_from_mapping({"portal": {"plugins": []}, "plugins": plugins})
    return build_portal(settings, uow_factory=lambda: None, extra_plugins=extra)  # type: ignore[arg-type,return-value]


def test_plugin_settings_collected_each_table_structured_at_start_up() -> None:
    assert _portal({"essai": {"seuil": 5}}, Essai()).config_for("essai") == EssaiSettings(seuil=5)
    assert _portal({}, Essai()).config_for("essai") == EssaiSettings()
    with pytest.raises(ConfigurationError):
        _portal({"essai": {"seuil": "beaucoup"}}, Essai())
    with pytest.raises(ConfigurationError):
        _portal({"essai": {"inconnu": 1}}, Essai())
    with pytest.raises(ConfigurationError, match="essai"):
        _portal({}, Essai(), SameName())


# --------------------------------------------------------------------------- web host


class Pages:
    """Two blueprints, two menu entries (one for agents), two home panels."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates

    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        first = Blueprint("essai", __name__, url_prefix="/essai", template_folder=str(self.templates))
        second = Blueprint("essai_agents", __name__, url_prefix="/gestion/essai")
        first.add_url_rule("/", "index", lambda: "essai")
        second.add_url_rule("/", "index", lambda: "essai agents")
        return [first, second]

    @hookimpl
    def menu_items(self, actor: Actor) -> list[MenuItem]:
        return [
            MenuItem(label="Essai", endpoint="essai.index", order=15),
            MenuItem(label="Essai agents", endpoint="essai_agents.index", order=1, agent=True),
            MenuItem(label="Disparu", endpoint="absent.index", order=2),
        ]

    @hookimpl
    def home_panels(self, actor: Actor) -> list[HomePanel]:
        if actor.is_agent:
            return []
        return [
            HomePanel(title="Tard", template="essai/panel.html", context={"n": 2}, order=99),
            HomePanel(title="Tôt", template="essai/panel.html", context={"n": 1}, order=1),
        ]


@pytest.fixture
def extra_plugins(tmp_path: Path) -> list[object]:
    (tmp_path / "essai").mkdir()
    (tmp_path / "essai" / "panel.html").write_text("<p>panneau {{ panel.context.n }}</p>", encoding="utf-8")
    return [Pages(tmp_path)]


def test_register_blueprints_collected_every_blueprint_of_every_plugin(app: Flask) -> None:
    client = app.test_client()
    assert {"essai", "essai_agents", "calendar", "inbox"} <= set(app.blueprints)
    assert client.get("/essai/").status_code == 302  # deny by default: to the login page


def test_register_blueprints_two_blueprints_of_the_same_name_stop_start_up(portal: Portal) -> None:
    class Copy:
        @hookimpl
        def register_blueprints(self) -> list[Blueprint]:
            return [Blueprint("essai", __name__)]

    portal.pm.register(Copy())
    with pytest.raises(RuntimeError, match="essai"):
        create_app({"TESTING": True}, portal=portal)


def test_menu_items_collected_sorted_by_order_for_the_actors_side(demo: Portal, app: Flask) -> None:
    parent = Actor(user_id=1, role=Role.PARENT, family_id=1)
    agent = Actor(user_id=2, role=Role.AGENT, service="ENFANCE")
    with app.test_request_context():
        family_menu = [entry["label"] for entry in menu_for(parent)]
        agents_menu = [entry["label"] for entry in menu_for(agent)]
    assert family_menu[0] == "Accueil"
    assert family_menu.index("Mon compte") < family_menu.index("Essai") < family_menu.index("Boîte de réception")
    assert "Essai agents" not in family_menu and "Disparu" not in family_menu  # no such page
    assert agents_menu[:2] == ["Accueil", "Essai agents"] and "Essai" not in agents_menu


def test_home_panels_collected_sorted_by_order(demo: Portal, app: Flask) -> None:
    client = app.test_client()
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    shown: list[list[str]] = []

    def record(_app: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        if template.name == "home.html":
            shown.append([panel.title for panel in context["panels"]])

    with template_rendered.connected_to(record, app):
        page = client.get("/").get_data(as_text=True)
    titles = shown[0]
    assert titles[0] == "Tôt" and titles[-1] == "Tard"
    assert titles.index("Mon compte") < titles.index("Agenda")  # the bundled ones in between
    assert page.index("panneau 1") < page.index("panneau 2")


def test_populate_demo_collected_after_the_cores_demo(portal: Portal) -> None:
    from famille_core.demo import populate

    seen: list[int] = []

    class Demo:
        @hookimpl
        def populate_demo(self, uow: Any) -> None:
            seen.append(uow.count(Activity))  # the core's demo is there already

    portal.pm.register(Demo())
    with portal.unit_of_work() as uow:
        populate(portal, uow)
        uow.commit()
    assert seen and seen[0] > 0
    with portal.unit_of_work() as uow:
        assert uow.count(Activity) == seen[0]
