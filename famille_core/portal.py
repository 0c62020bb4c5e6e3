"""The :class:`Portal`: everything a service needs, for one collectivity.

A portal bundles the validated settings, the plugin manager, the converter, the clock and the
unit-of-work factory. Build it with :func:`build_portal` (or
:func:`famille_core.persistence.build_sql_portal` for the SQLAlchemy storage).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import cattrs
import pluggy
from attrs import define, field

from famille_core.clock import Clock, SystemClock
from famille_core.convert import make_converter
from famille_core.errors import ConfigurationError
from famille_core.plugins import make_plugin_manager
from famille_core.settings import Settings, structure_plugin_settings
from famille_core.uow import UnitOfWork, UnitOfWorkFactory


@define(kw_only=True)
class Portal:
    """One collectivity's portal: settings, plugins and storage."""

    settings: Settings
    pm: pluggy.PluginManager
    uow_factory: UnitOfWorkFactory
    clock: Clock = field(factory=SystemClock)
    converter: cattrs.Converter = field(factory=make_converter)
    instance_path: Path = field(factory=lambda: Path("instance"))
    plugin_config: dict[str, Any] = field(factory=dict)
    """Validated per-plugin settings objects, by plugin name."""
    storage: Any = None
    """The storage behind the units of work (the SQLAlchemy engine for the SQL adapter)."""
    mail_sender: Any = None
    """This process's :class:`~famille_core.mail_queue.BackgroundSender`, when it runs one
    (``[mail] delivery = "background"`` in the web host); woken after commits that queue e-mail."""
    job_queue: Any = None
    """The portal's :class:`~famille_core.jobs.JobQueue`, built on first use."""

    @property
    def hook(self) -> Any:
        """The hook caller: ``portal.hook.absence_reasons(portal=portal, ...)``."""
        return self.pm.hook

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A new unit of work (use it in a ``with`` block)."""
        return self.uow_factory()

    def is_enabled(self, name: str) -> bool:
        """True when the plugin ``name`` is loaded."""
        return self.pm.has_plugin(name)

    def config_for(self, name: str) -> Any:
        """The validated settings object of plugin ``name``."""
        return self.plugin_config[name]

    def path(self, *parts: str) -> Path:
        """A path inside the instance folder (created on demand by callers)."""
        return self.instance_path.joinpath(*parts)


PortalFactory = Callable[[], Portal]
"""A function that builds a portal when called: ``register_commands`` receives the command
line's, so that a command opens the configured database only when it runs."""


def build_portal(
    settings: Settings,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock | None = None,
    extra_plugins: Iterable[object] = (),
    instance_path: Path | str = "instance",
) -> Portal:
    """Build a portal: load the enabled plugins and validate their settings.

    :raises ConfigurationError: a plugin is missing or invalid, or its settings are wrong.
    """
    pm = make_plugin_manager(settings.portal.plugins, extra=extra_plugins)
    plugin_config: dict[str, Any] = {}
    for declared in pm.hook.plugin_settings():
        name, cls = declared
        if name in plugin_config:
            raise ConfigurationError(f"Deux plugins déclarent les réglages « {name} ».")
        plugin_config[name] = structure_plugin_settings(name, cls, settings.plugins.get(name, {}))
    return Portal(
        settings=settings,
        pm=pm,
        uow_factory=uow_factory,
        clock=clock or SystemClock(),
        instance_path=Path(instance_path),
        plugin_config=plugin_config,
    )
