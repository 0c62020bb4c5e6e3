"""Who may use a route. **Deny by default**: a route is open to logged-in users only, unless
marked :func:`public`; :func:`agents_only` and :func:`families_only` narrow it further.

Plugins use these decorators on their views through the toolkit::

    from host_flask.toolkit import families_only
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, g

from famille_core.entities import Actor, User
from famille_core.persistence.account_check import AccountState
from famille_core.services.access import require_recent_login
from host_flask.context import get_portal, request_uow

F = TypeVar("F", bound=Callable[..., object])

PUBLIC = "public"
AGENTS = "agents"
FAMILIES = "families"


def _mark(audience: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        view.famille_audience = audience  # type: ignore[attr-defined]
        return view

    return decorator


public = _mark(PUBLIC)
"""Open to everyone, logged in or not (login page, legal pages, payment notifications)."""

agents_only = _mark(AGENTS)
"""Municipal agents and administrators only."""

ACTING = "famille_acting"


def open_to_acting_agents(view: F) -> F:
    """Let an agent acting for a family ("Agir pour la famille", docs/agents.md) use this
    family page, with :func:`current_actor` acting for that household through the parents'
    services. Put it **above** :func:`families_only`. Pages showing or changing bank or health
    data never carry it: they stay behind the agents' own pages."""
    setattr(view, ACTING, True)
    return view


def open_to_acting(view: object) -> bool:
    """True when ``view`` is marked :func:`open_to_acting_agents`."""
    return bool(getattr(view, ACTING, False))


def families_only(view: F) -> F:
    """Parents acting for their household only.

    An agent never reaches these pages, even through an account wrongly attached to a household
    (refused at login, but a session may predate the change): the agents' reach over every
    household in :mod:`famille_core.services.access` must never serve one household's pages
    (docs/security.md point 10). The one exception: an agent acting for a family on a page
    marked :func:`open_to_acting_agents`, whose actor then has that household's reach only
    (docs/agents.md).
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        account = signed_in()
        if account is None or (account.is_agent and not current_actor().is_acting):
            abort(404)
        return view(*args, **kwargs)

    return _mark(FAMILIES)(cast(F, wrapper))


def audience_of(view: object) -> str | None:
    """The audience a view was marked with (``None``: any logged-in user)."""
    return getattr(view, "famille_audience", None)


def signed_in() -> AccountState | None:
    """The logged-in account of this request as its session check read it (who, which role
    and household), if any: no further query."""
    return g.get("famille_login")


def current_user() -> User | None:
    """The logged-in user of this request, if any, as an entity of the request's unit of work
    (loaded on the first call: most pages need only :func:`signed_in` and :func:`current_actor`)."""
    if "famille_user" in g:
        user: User | None = g.famille_user
        return user
    account = signed_in()
    user = None if account is None else request_uow().get(User, account.id)
    g.famille_user = user
    return user


class TemplateUser:
    """``current_user`` in templates: the name and role from the session check, anything else
    from :func:`current_user` (loaded then)."""

    __slots__ = ("_account",)

    def __init__(self, account: AccountState) -> None:
        self._account = account

    @property
    def id(self) -> int:
        """The account's id."""
        return self._account.id

    @property
    def display_name(self) -> str:
        """The name shown in the header."""
        return self._account.display_name

    @property
    def is_agent(self) -> bool:
        """True for municipal staff."""
        return self._account.is_agent

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(current_user(), name)


def current_actor() -> Actor:
    """The :class:`Actor` of the logged-in user (views reached only when logged in)."""
    actor: Actor = g.famille_actor
    return actor


def recent_login_required(view: F) -> F:
    """Show a sensitive form (bank details, authorised persons…) only after a recent login.

    The services check it again on saving (:func:`famille_core.services.access.require_recent_login`);
    this decorator only spares the person a refused form. Put it under the audience marks.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        require_recent_login(get_portal(), current_actor())
        return view(*args, **kwargs)

    return cast(F, wrapper)
