"""Hook markers. Plugins write ``from famille_core import hookimpl``."""

from collections.abc import Iterable
from typing import Any, TypeVar, cast

import pluggy

from famille_core.errors import ConfigurationError

Named = TypeVar("Named")

PROJECT_NAME = "famille"
"""The pluggy project name shared by the specs and every plugin."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)



def by_name(answers: Iterable[Iterable[Named]], refusal: str) -> dict[str, Named]:
    """The values a collected hook gave (each with a ``name``), by name.

    :param refusal: the French message when two plugins give one name, with ``{name}`` in it.
    :raises ConfigurationError: two values have the same name.
    """
    found: dict[str, Named] = {}
    for answer in answers:
        for value in answer:
            name = cast(Any, value).name
            if name in found:
                raise ConfigurationError(refusal.format(name=name))
            found[name] = value
    return found


__all__ = ["PROJECT_NAME", "by_name", "hookimpl", "hookspec"]
