"""The configured instance: its folder, its settings and its portal.

The command line and the app factory find the instance the same way: the folder named by
``FAMILLE_INSTANCE`` (default ``./instance``), the TOML file named by ``FAMILLE_CONFIG`` (default
``famille.toml`` in that folder, defaults when absent) and the database of
:func:`famille_core.persistence.database_url`. This module imports no other host module.
"""

from __future__ import annotations

import os
from pathlib import Path

from famille_core import Portal, load_settings
from famille_core.settings import Settings


def instance_path() -> Path:
    """The instance folder (``FAMILLE_INSTANCE``, default ``./instance``)."""
    return Path(os.environ.get("FAMILLE_INSTANCE", "instance")).resolve()


def config_path(folder: Path | None = None) -> Path:
    """The configuration file: ``FAMILLE_CONFIG``, else ``famille.toml`` in the instance folder."""
    return Path(os.environ.get("FAMILLE_CONFIG") or (folder or instance_path()) / "famille.toml")


def current_settings(folder: Path | None = None) -> Settings:
    """Settings from the configuration file (defaults when it does not exist)."""
    path = config_path(folder)
    return load_settings(path if path.exists() else None)


def current_portal() -> Portal:
    """The portal of the configured instance and database (needs the ``sql`` extra)."""
    from famille_core.persistence import build_sql_portal, database_url

    folder = instance_path()
    settings = current_settings(folder)
    return build_sql_portal(settings, database_url(settings, folder), instance_path=folder)
