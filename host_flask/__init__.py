"""The thin Flask host of Portail Famille (extra ``web``).

``create_app()`` builds the web application around a :class:`famille_core.Portal`: login and
sessions, the French layout, the home page, and the blueprints of the enabled plugins.

Both names are loaded on first use (PEP 562): the ``famille`` command line lives in this package
too, and a command that needs no web application (an import, a backup, the worker) starts
without importing Flask, the pages and every plugin's web modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from host_flask.app import create_app
    from host_flask.context import get_portal

__all__ = ["create_app", "get_portal"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from host_flask.app import create_app

        return create_app
    if name == "get_portal":
        from host_flask.context import get_portal

        return get_portal
    raise AttributeError(f"module 'host_flask' has no attribute {name!r}")
