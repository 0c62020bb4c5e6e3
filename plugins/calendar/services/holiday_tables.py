"""French public and school holidays from the ``holidays`` package, as JSON (run as a script).

A web worker does not import ``holidays`` (45 modules of calendars, about 4.5 MB in each worker:
docs/deployment.md, "Memory of a worker"): ``calendar_days`` runs this file in a short-lived
Python process of its own, once per worker for a few years around the one asked, and keeps the
answer for the process's life. It imports nothing but the standard library and ``holidays``.

Standard input: ``{"years": [2026, …], "subdivisions": [null, "57"], "zones": ["A", …]}``;
standard output: ``{"public": {"2026 57": {"2026-12-26": "Saint-Étienne", …}}, "school":
{"2026 A": {…}}}`` (``"2026 "`` for no subdivision).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

FRANCE_MODULE = "holidays.countries.france"


def france() -> Any:
    """The ``holidays`` package's ``France`` class, loaded on its own.

    ``holidays.France`` imports the package ``holidays.countries``, whose ``__init__`` imports
    every one of its 200-odd countries. France's module is loaded here from its own file under
    its own name, so a later ``holidays.France`` (which imports ``holidays.countries``) finds
    that module in ``sys.modules`` and gives the same class. When this version of ``holidays``
    keeps France elsewhere, ``holidays.France`` is used as it is.
    """
    import holidays

    module = sys.modules.get(FRANCE_MODULE)
    if module is None:
        path = Path(holidays.__file__).with_name("countries") / "france.py"
        spec = importlib.util.spec_from_file_location(FRANCE_MODULE, path)
        if spec is None or spec.loader is None or not path.is_file():
            return holidays.France
        module = importlib.util.module_from_spec(spec)
        sys.modules[FRANCE_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[FRANCE_MODULE]
            raise
    return module.France


def public(year: int, subdivision: str | None) -> dict[str, str]:
    """Public holidays (jours fériés) of ``year``, French labels, ISO dates."""
    days = france()(years=year, subdiv=subdivision, language="fr")
    return {day.isoformat(): label for day, label in days.items()}


def school(year: int, zone: str) -> dict[str, str]:
    """School holidays (vacances scolaires) of zone ``A``, ``B`` or ``C`` in ``year``."""
    days = france()(years=year, subdiv=f"Zone {zone}", categories=("school",), language="fr")
    return {day.isoformat(): label for day, label in days.items()}


def tables(request: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Every table of ``request`` (see the module's docstring)."""
    answer: dict[str, dict[str, dict[str, str]]] = {"public": {}, "school": {}}
    for year in request["years"]:
        for subdivision in request["subdivisions"]:
            answer["public"][f"{year} {subdivision or ''}"] = public(year, subdivision)
        for zone in request["zones"]:
            answer["school"][f"{year} {zone}"] = school(year, zone)
    return answer


if __name__ == "__main__":
    json.dump(tables(json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
