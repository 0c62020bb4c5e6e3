"""Hook implementations of the profile plugin: Mon compte and Mes enfants, the family's and
children's records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import HomePanel, MenuItem

if TYPE_CHECKING:
    from famille_core.entities import Actor, Child
    from famille_core.hooks.results import EventPolicy
    from famille_core.portal import Portal
    from famille_core.uow import UnitOfWork


@hookimpl
def plugin_settings() -> tuple[str, type]:
    from famille_plugins.profile.settings import NAME, ProfileSettings

    return (NAME, ProfileSettings)


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        return [
            MenuItem(label="Familles", endpoint="profile_agents.search", order=10, agent=True),
            MenuItem(label="Demandes de modification", endpoint="profile_agents.requests", order=11, agent=True),
        ]
    return [
        MenuItem(label="Mon compte", endpoint="profile.index", order=10),
        MenuItem(label="Mes enfants", endpoint="profile.children", order=11),
    ]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.profile.agents_web import bp as agents_bp
    from famille_plugins.profile.web import bp

    return [bp, agents_bp]


@hookimpl
def purge_child_data(portal: Portal, uow: UnitOfWork, child: Child) -> None:
    """Delete the child's photo file once the purge is committed (docs/security.md point 28)."""
    from famille_plugins.profile.services import photos

    key = child.photo_key
    if key:
        uow.after_commit(lambda: photos.delete(portal, key))


@hookimpl
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """"Mon compte" for a family (with its requests waiting for validation); the number of
    requests to decide for an agent."""
    from famille_core.entities import ChangeRequest

    if actor.is_agent:
        count = uow.count(ChangeRequest, state="pending")
        if not count:
            return []
        return [HomePanel(title="Demandes de modification", template="profile/agents/home_panel.html",
                          context={"pending_count": count}, order=35)]
    if actor.family_id is None:
        return []
    count = uow.count(ChangeRequest, family_id=actor.family_id, state="pending")
    return [HomePanel(title="Mon compte", template="profile/home_panel.html",
                      context={"pending_count": count}, order=10)]


@hookimpl
def family_data_sections(portal: Portal, uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """"Mes données": the household's records of "Mon compte" and "Mes enfants"."""
    from famille_plugins.profile.services.data import family_sections

    return family_sections(uow, family_id)


@hookimpl
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """The profile's records and the change requests' decisions."""
    from famille_plugins.profile.services.data import EVENT_POLICIES

    return EVENT_POLICIES


@hookimpl
def populate_demo(portal: Portal, uow: UnitOfWork) -> None:
    """The DUPONT household's tax, CAF and bank records, and the children's records."""
    from famille_plugins.profile.demo import populate

    populate(portal, uow)


@hookimpl
def api_operations(portal: Portal) -> Sequence[Any]:
    """The records a parent edits, for the ERP (docs/api.md, "The households' records")."""
    from famille_plugins.profile.api import OPERATIONS

    return OPERATIONS
