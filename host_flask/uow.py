"""One unit of work per request, opened on first use and closed at the end of the request."""

from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, g

from famille_core.uow import UnitOfWork
from host_flask.app import get_portal


def request_uow() -> UnitOfWork:
    """The current request's unit of work (views commit it themselves)."""
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


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
