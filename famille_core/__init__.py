"""Portail Famille — the core.

The public API integrators and plugins use::

    from famille_core import hookimpl, Portal, build_portal, load_settings
    from famille_core.entities import Child, Reservation

This package imports neither Flask nor SQLAlchemy: the SQL storage is
:mod:`famille_core.persistence` (extra ``sql``), the web host is :mod:`host_flask` (extra ``web``).
"""

from famille_core.clock import PARIS, Clock, FixedClock, SystemClock
from famille_core.convert import make_converter, structure
from famille_core.errors import (
    ConfigurationError,
    Conflict,
    FamilleError,
    Issue,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from famille_core.hooks import hookimpl
from famille_core.notify import notify_family
from famille_core.portal import Portal, build_portal
from famille_core.settings import Settings, load_settings, settings_from_mapping

__version__ = "0.1.0"

__all__ = [
    "PARIS",
    "Clock",
    "ConfigurationError",
    "Conflict",
    "FamilleError",
    "FixedClock",
    "Issue",
    "NotFound",
    "PermissionDenied",
    "Portal",
    "Settings",
    "SystemClock",
    "ValidationFailed",
    "build_portal",
    "hookimpl",
    "load_settings",
    "make_converter",
    "notify_family",
    "settings_from_mapping",
    "structure",
]
