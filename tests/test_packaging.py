"""The distribution ships every package of the tree, with the layout of the design card."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_name(folder: Path) -> str:
    parts = folder.relative_to(ROOT).parts
    if parts[0] == "plugins":
        parts = ("famille_plugins", *parts[1:])
    return ".".join(parts)


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        _import_name(init.parent)
        for top in ("famille_core", "host_flask", "plugins")
        for init in (ROOT / top).rglob("__init__.py")
        if "templates" not in init.parts and "static" not in init.parts
    }
    assert found == listed


def test_bundled_plugins_are_entry_points() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = config["project"]["entry-points"]["famille.plugins"]
    assert entry_points == {
        name: f"famille_plugins.{name}.plugin"
        for name in ("profile", "inbox", "calendar", "billing", "tipi_payment")
    }


def test_core_dependencies_exclude_flask_and_sqlalchemy() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    core = " ".join(config["project"]["dependencies"]).lower()
    assert "flask" not in core and "sqlalchemy" not in core
    for requirement in config["project"]["dependencies"]:
        assert ">=" in requirement and "<" in requirement, f"unpinned range: {requirement}"
