"""Building the plugin manager: enabled plugins, by name, from entry points.

There is no global plugin manager: :func:`make_plugin_manager` builds a new one each time (one per
portal, one per test).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points

import pluggy

from famille_core import builtin
from famille_core.errors import ConfigurationError
from famille_core.hooks import PROJECT_NAME, specs

ENTRY_POINT_GROUP = "famille.plugins"
"""Entry-point group under which plugins announce themselves."""


def installed_plugins() -> dict[str, EntryPoint]:
    """Every plugin installed in the environment, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def make_plugin_manager(
    enabled: Sequence[str], *, extra: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A plugin manager with the built-in defaults, the ``enabled`` plugins and ``extra`` objects.

    :raises ConfigurationError: an enabled plugin is not installed or fails to import, or a plugin
        implements a hook that does not exist (a misspelt name) or with unknown arguments.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    pm.register(builtin, name="famille_core.builtin")
    available = installed_plugins()
    for name in enabled:
        if name in (n for n, _ in pm.list_name_plugin()):
            raise ConfigurationError(f"Le plugin « {name} » est activé deux fois.")
        entry_point = available.get(name)
        if entry_point is None:
            known = ", ".join(sorted(available)) or "aucun"
            raise ConfigurationError(
                f"Le plugin activé « {name} » n'est pas installé "
                f"(groupe d'entry points « {ENTRY_POINT_GROUP} » ; installés : {known})."
            )
        try:
            module = entry_point.load()
        except Exception as exc:
            raise ConfigurationError(
                f"Le plugin « {name} » ne peut pas être chargé : {exc!r}"
            ) from exc
        _register(pm, module, name)
    for plugin in extra:
        # Modules and classes keep their own name; instances take their class's.
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        _register(pm, plugin, name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(
            f"Le plugin « {getattr(exc, 'plugin', '?')} » implémente un hook inconnu : {exc}"
        ) from exc
    return pm


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(
            f"Le plugin « {getattr(exc, 'plugin', '?')} » est invalide : {exc}"
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(f"Plugin enregistré deux fois : {exc}") from exc


def plugin_version(plugin: object) -> str:
    """The distribution version that provides ``plugin`` (``"?"`` when unknown)."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    module = getattr(plugin, "__name__", type(plugin).__module__)
    top = module.split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "?"
