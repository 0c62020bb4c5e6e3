""""Agir pour la famille": an agent acts for one household from its page (docs/agents.md).

The session remembers the household (``acting_family``); on the family pages marked
:func:`host_flask.access.open_to_acting_agents` (Agenda, invoices, inbox) the request's actor is
then :meth:`famille_core.entities.Actor.acting_for` — the household's reach through the
parents' services, the agent's identity for the audit — and every page shows the banner "Vous
agissez pour la famille DUPONT" with its end button. Who may act is checked again at each
request (:func:`famille_core.services.acting.acting_actor`): anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from famille_core import feed
from famille_core.entities import Actor, Family
from famille_core.errors import NotFound
from famille_core.services import acting
from host_flask.access import agents_only, open_to_acting, signed_in
from host_flask.context import get_portal, request_uow

SESSION_KEY = "acting_family"

bp = Blueprint("acting", __name__, url_prefix="/gestion")


def current_acting() -> tuple[Actor, Family] | None:
    """The acting actor and its household when the logged-in agent acts for one (once per
    request); ``None`` otherwise. A session whose agent may no longer act forgets it."""
    if "famille_acting" in g:
        found: tuple[Actor, Family] | None = g.famille_acting
        return found
    g.famille_acting = None
    account = signed_in()
    family_id = session.get(SESSION_KEY)
    if account is None or not account.is_agent or not isinstance(family_id, int):
        return None
    agent: Actor = g.famille_actor.as_agent()
    try:
        g.famille_acting = acting.acting_actor(get_portal(), request_uow(), agent, family_id)
    except NotFound:
        session.pop(SESSION_KEY, None)
    return g.get("famille_acting")


def act_in_this_request() -> None:
    """On a page open to acting agents: this request's actor acts for the household. Each page
    the agent reads for the family is audited (``acting.viewed``, the page's endpoint as the
    record type), in its own transaction so that a page that changes nothing stays so."""
    found = current_acting()
    if found is not None:
        g.famille_actor = found[0]
        feed.set_author(feed.Author.of(found[0]))
        if request.method == "GET":
            portal = get_portal()
            with portal.unit_of_work() as uow:
                acting.viewed(portal, uow, found[0], request.endpoint or "")
                uow.commit()


@bp.post("/familles/<int:family_id>/agir")
@agents_only
def start(family_id: int) -> ResponseReturnValue:
    """« Agir pour la famille »: from the household's page."""
    portal, uow = get_portal(), request_uow()
    agent = g.famille_actor
    previous = session.get(SESSION_KEY)
    family = acting.start(portal, uow, agent, family_id)
    if isinstance(previous, int) and previous != family_id:
        acting.end(portal, uow, agent, previous)
    uow.commit()
    session[SESSION_KEY] = family_id
    g.pop("famille_acting", None)
    flash(_("Vous agissez pour la famille %(name)s.", name=family.name), "info")
    links = family_links()
    return redirect(links[0]["url"] if links else url_for("home.index"))


@bp.post("/agir/terminer")
@agents_only
def end() -> ResponseReturnValue:
    """« Terminer » in the banner: back to the household's page."""
    portal, uow = get_portal(), request_uow()
    acting.require_may_act(portal, g.famille_actor)
    family_id = session.pop(SESSION_KEY, None)
    if not isinstance(family_id, int):
        return redirect(url_for("home.index"))
    acting.end(portal, uow, g.famille_actor, family_id)
    uow.commit()
    flash(_("Vous n'agissez plus pour cette famille."), "info")
    try:
        return redirect(url_for("profile_agents.family", family_id=family_id))
    except BuildError:
        return redirect(url_for("home.index"))


def family_links() -> list[dict[str, str]]:
    """The family's pages an acting agent opens (Agenda, Factures, Boîte de réception…): the
    parents' menu entries whose page is open to acting agents."""
    found = current_acting()
    if found is None:
        return []
    portal = get_portal()
    links = []
    items = [
        item
        for result in portal.hook.menu_items(portal=portal, actor=found[0])
        for item in result
        if not item.agent
    ]
    for item in sorted(items, key=lambda item: item.order):
        view = current_app.view_functions.get(item.endpoint)
        if view is None or not open_to_acting(view):
            continue
        links.append({"label": item.label, "url": url_for(item.endpoint), "endpoint": item.endpoint})
    return links


def init_app(app: Flask) -> None:
    """The start and end actions, and the banner on every page while acting."""
    app.register_blueprint(bp)

    @app.context_processor
    def _banner() -> dict[str, Any]:
        if g.get("famille_login") is None or session.get(SESSION_KEY) is None:
            return {"acting": None}
        found = current_acting()
        if found is None:
            return {"acting": None}
        return {"acting": {"family": found[1], "links": family_links()}}
