"""The home page ("Accueil"), filled by the plugins' ``home_panels``, and the menu."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, has_request_context, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.routing import BuildError

from famille_core.entities import Actor
from famille_core.hooks.results import HomePanel, MenuItem
from famille_core.services.account_admin import may_manage_accounts
from host_flask.access import current_actor
from host_flask.context import get_portal, request_uow
from host_flask.page_cache import cached_page

bp = Blueprint("home", __name__)


@bp.route("/")
@cached_page
def index() -> ResponseReturnValue:
    """Accueil."""
    portal = get_portal()
    actor = current_actor()
    panels: list[HomePanel] = [
        panel
        for result in portal.hook.home_panels(portal=portal, uow=request_uow(), actor=actor)
        for panel in result
    ]
    panels.sort(key=lambda panel: panel.order)
    return render_template("home.html", panels=panels)


def menu_for(actor: Actor) -> list[dict[str, Any]]:
    """The menu entries of ``actor``, in order, with their URLs."""
    portal = get_portal()
    items: list[MenuItem] = [
        item
        for result in portal.hook.menu_items(portal=portal, actor=actor)
        for item in result
        if item.agent == actor.is_agent
    ]
    items.sort(key=lambda item: item.order)
    entries: list[dict[str, Any]] = [
        {"label": "Accueil", "url": url_for("home.index"), "endpoint": "home.index"}
    ]
    if may_manage_accounts(portal, actor):
        items.append(MenuItem(label="Comptes", endpoint="accounts.index", order=900, agent=True))
    for item in items:
        try:
            entries.append(
                {"label": item.label, "url": url_for(item.endpoint), "endpoint": item.endpoint}
            )
        except BuildError:
            continue  # a menu entry whose blueprint is not loaded is not shown
    current = _current_entry(entries)
    for entry in entries:
        entry["current"] = entry is current
    return entries


def _current_entry(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one entry marked ``aria-current="page"``: the page's own entry, else the entry whose
    address is the longest start of the page's (Mes enfants, not Mon compte, on a child's
    record), else the first entry of the page's blueprint (docs/accessibility.md: one current
    page in the menu)."""
    if not has_request_context():
        return None
    for entry in entries:
        if entry["endpoint"] == request.endpoint:
            return entry
    path = request.path
    prefixes = [e for e in entries if e["url"] != "/" and path.startswith(e["url"])]
    if prefixes:
        return max(prefixes, key=lambda e: len(e["url"]))
    blueprint = request.blueprint
    same = [e for e in entries if blueprint and e["endpoint"].startswith(blueprint + ".")]
    return same[0] if same else None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _menu() -> dict[str, Any]:
        actor = g.get("famille_actor")
        portal = get_portal()
        return {
            # an agent acting for a family keeps the agents' menu (the banner links its pages)
            "menu": menu_for(actor.as_agent()) if actor is not None else [],
            "collectivity": portal.settings.collectivity,
        }
