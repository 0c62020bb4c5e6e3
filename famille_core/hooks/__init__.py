"""Hook markers. Plugins write ``from famille_core import hookimpl``."""

import pluggy

PROJECT_NAME = "famille"
"""The pluggy project name shared by the specs and every plugin."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
