"""Hook implementations of the inbox plugin: Boîte de réception, two-way messages between
families and the municipality's services, and the system notices other plugins post through
:func:`famille_core.notify_family`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from famille_core import hookimpl
from famille_core.hooks.results import BackgroundJob, HomePanel, MenuItem

if TYPE_CHECKING:
    from famille_core.entities import Actor, Message, Thread
    from famille_core.hooks.results import EventPolicy, FamilyNotice
    from famille_core.portal import Portal, PortalFactory
    from famille_core.uow import UnitOfWork


@hookimpl
def plugin_settings() -> tuple[str, type]:
    from famille_plugins.inbox.settings import NAME, InboxSettings

    return (NAME, InboxSettings)


@hookimpl
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    if actor.is_agent:
        from famille_plugins.inbox.services.mailboxes import mailboxes_for

        items = [MenuItem(label="Messages", endpoint="inbox_agents.index", order=30, agent=True)]
        if mailboxes_for(portal, actor):
            items.append(MenuItem(label="Message groupé", endpoint="inbox_agents.group", order=31, agent=True))
        return items
    return [MenuItem(label="Boîte de réception", endpoint="inbox.index", order=30)]


@hookimpl
def register_blueprints(portal: Portal) -> Sequence[Any]:
    from famille_plugins.inbox.agents_web import bp as agents_bp
    from famille_plugins.inbox.agents_web import moved_bp
    from famille_plugins.inbox.web import bp

    return [bp, agents_bp, moved_bp]


@hookimpl
def populate_demo(portal: Portal, uow: UnitOfWork) -> None:
    """A notice from the town, a question with an attachment and its unread answer (DUPONT)."""
    from famille_plugins.inbox.demo import populate

    populate(portal, uow)


@hookimpl
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """"Vous avez N nouveau(x) message(s)" for a family; conversations to handle for an agent."""
    from famille_plugins.inbox.services import agents, household

    if actor.is_agent:
        pending = agents.pending_by_service(portal, uow, actor)
        if not pending:
            return []
        return [
            HomePanel(
                title="Messages des familles",
                template="inbox/agents/home_panel.html",
                context={"pending": pending},
                order=30,
            )
        ]
    if actor.family_id is None:
        return []
    return [
        HomePanel(
            title="Boîte de réception",
            template="inbox/home_panel.html",
            context={"unread": household.unread_count(uow, actor.family_id)},
            order=5,
        )
    ]


@hookimpl
def route_message(portal: Portal, thread: Thread, message: Message) -> str | None:
    """``[plugins.inbox] routing``: a keyword of the title chooses the service."""
    from famille_plugins.inbox.services.mailboxes import route_by_keyword

    return route_by_keyword(portal, thread.subject)


@hookimpl
def post_family_notice(portal: Portal, uow: UnitOfWork, notice: FamilyNotice) -> int | None:
    from famille_plugins.inbox.services.sending import post_notice

    return post_notice(portal, uow, notice)


@hookimpl
def register_commands(cli: Any, portal_factory: PortalFactory) -> None:
    from famille_plugins.inbox.commands import register

    register(cli, portal_factory)


@hookimpl
def family_data_sections(portal: Portal, uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """"Mes données": the household's conversations with the municipality."""
    from famille_plugins.inbox.services.data import family_sections

    return family_sections(uow, family_id)


@hookimpl
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """``message.sent``."""
    from famille_plugins.inbox.services.data import EVENT_POLICIES

    return EVENT_POLICIES


@hookimpl
def api_operations(portal: Portal) -> Sequence[Any]:
    """``POST /messages``: a system message to a household from the ERP."""
    from famille_plugins.inbox.api import OPERATIONS

    return OPERATIONS


@hookimpl
def background_jobs(portal: Portal) -> Sequence[BackgroundJob]:
    """"Message groupé": posted to its households when sent, and every five minutes whatever
    is left (the queue's store was down, a worker died mid-way: docs/agents.md)."""
    from famille_plugins.inbox.services.group import JOB, deliver

    return [
        BackgroundJob(
            name=JOB,
            run=deliver,
            schedule="*/5 * * * *",
            description="Dépose les messages groupés dans la boîte de réception de chaque foyer (et leur e-mail).",
        )
    ]
