"""Hook implementations of the profile plugin: Mon compte and Mes enfants: the family's and children's records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import MenuItem

if TYPE_CHECKING:
    from famille_core.entities import Actor
    from famille_core.portal import Portal


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        return []
    return [MenuItem(label="Mon compte", endpoint="profile.index", order=10)]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.profile.web import bp

    return [bp]
