"""Fixtures of the hook tests: the demo's identifiers, and plugins registered for one test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from famille_core import Portal
from tests.plugins.calendar.conftest import cal  # noqa: F401  (the demo household, its children)


@contextmanager
def plugged(portal: Portal, *plugins: object) -> Iterator[None]:
    """Register ``plugins`` in ``portal`` for the block. pluggy calls the implementations
    registered last first (``trylast`` ones after every other), so these answer before the
    enabled plugins."""
    for plugin in plugins:
        portal.pm.register(plugin)
    try:
        yield
    finally:
        for plugin in plugins:
            portal.pm.unregister(plugin)
