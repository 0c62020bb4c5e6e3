"""Settings of the profile plugin (``[plugins.profile]`` in the configuration)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define, field

if TYPE_CHECKING:
    from famille_core.portal import Portal

NAME = "profile"
"""The plugin's name: its entry point, its ``[plugins.profile]`` table."""

SECTIONS = (
    "responsable",
    "conjoint",
    "fiscal",
    "caf",
    "banque",
    "autorisations",
    "complementaires",
    "sanitaires",
)
"""Sections whose change policy the collectivity chooses (the photo is always applied at once)."""


def _known_sections(_instance: Any, _attribute: Any, value: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(SECTIONS))
    if unknown:
        raise ValueError(f"rubriques inconnues : {', '.join(unknown)} (connues : {', '.join(SECTIONS)})")


def _positive(_instance: Any, attribute: Any, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} doit être positif")


@define(kw_only=True)
class ProfileSettings:
    """``[plugins.profile]``.

    ``validated_sections`` lists the sections whose changes an agent validates; the others are
    applied at once.
    """

    validated_sections: tuple[str, ...] = field(default=("fiscal", "banque"), validator=_known_sections)
    sensitive_data_services: tuple[str, ...] = ()
    """Agents' services allowed to read health, bank and tax data; empty means every agent."""
    photo_max_bytes: int = field(default=5 * 1024 * 1024, validator=_positive)
    photo_max_pixels: int = field(default=40_000_000, validator=_positive)
    """Largest width × height accepted, checked from the header before any decoding."""
    photo_max_side: int = field(default=800, validator=_positive)
    """The stored photo is reduced to fit in this square (pixels)."""


def settings_of(portal: Portal) -> ProfileSettings:
    """The validated ``[plugins.profile]`` settings of ``portal``."""
    settings: ProfileSettings = portal.config_for(NAME)
    return settings
