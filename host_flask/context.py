"""The current request's portal and unit of work: the leaf of the host's imports.

Like ``get_db`` in Flask's tutorial, this module imports no other host module, so every page,
the API and the toolkit can reach the portal without reaching back into the app factory.
"""

from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, current_app, g

from famille_core.portal import Portal
from famille_core.uow import UnitOfWork

EXTENSION = "famille"
"""``app.extensions[EXTENSION]`` holds the application's :class:`~famille_core.Portal`."""


def get_portal() -> Portal:
    """The portal of the current application."""
    portal: Portal = current_app.extensions[EXTENSION]
    return portal


def request_uow() -> UnitOfWork:
    """The current request's unit of work, opened on first use and closed at the end of the
    request (views commit it themselves)."""
    if "famille_uow" not in g:
        stack = ExitStack()
        g.famille_uow_stack = stack
        g.famille_uow = stack.enter_context(get_portal().unit_of_work())
    uow: UnitOfWork = g.famille_uow
    return uow


def discard_request_uow() -> None:
    """Roll back and close the request's unit of work now (an error page is about to be
    rendered: nothing of the failed request may be committed or read again)."""
    stack = g.pop("famille_uow_stack", None)
    g.pop("famille_uow", None)
    if stack is not None:
        stack.close()


def _close(_exc: BaseException | None) -> None:
    discard_request_uow()


def init_app(app: Flask, portal: Portal) -> None:
    """Attach ``portal`` to ``app`` and close each request's unit of work at its end."""
    app.extensions[EXTENSION] = portal
    app.teardown_appcontext(_close)
