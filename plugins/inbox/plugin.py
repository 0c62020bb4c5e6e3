"""Hook implementations of the inbox plugin: Boîte de réception: two-way messages between families and the municipality."""

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
    return [MenuItem(label="Boîte de réception", endpoint="inbox.index", order=30)]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.inbox.web import bp

    return [bp]
