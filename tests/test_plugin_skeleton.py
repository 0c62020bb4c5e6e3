"""One plugin skeleton (docs/plugins.md, "The skeleton of a plugin"): every bundled plugin folder
has the same role files, each doing its one job, so that a contributor finds the same thing in
the same place in every plugin and starts a new one by copying the shape.

A role file a plugin does not need may be missing only when :data:`ABSENT` says why, and the
reason is checked: a plugin said to have no commands implements no ``register_commands``, one
said to have no agents' pages has none. The examples under ``examples/`` follow the same rules
for the role files they need.

Read from the source (AST) and from a running application, never from a list kept by hand
elsewhere: a new plugin folder is checked the day it is added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask

from famille_core import Portal
from host_flask.access import AGENTS, FAMILIES, audience_of

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.parent for p in (ROOT / "plugins").glob("*/plugin.py"))
EXAMPLES = sorted(
    package
    for pyproject in (ROOT / "examples").glob("*/pyproject.toml")
    for package in pyproject.parent.glob("famille_*")
    if (package / "__init__.py").exists()
)

ROLE_FILES = (
    "plugin.py",
    "settings.py",
    "services",
    "web.py",
    "agents_web.py",
    "commands.py",
    "demo.py",
    "templates/{name}",
    "templates/{name}/agents",
)
"""What a plugin folder holds (``services`` is the module ``services.py`` or the package
``services/``); ``api.py`` joins them in a plugin that contributes API operations."""

ABSENT: dict[tuple[str, str], str] = {
    ("calendar", "commands.py"): "no command: nothing of the agenda runs outside a request",
    ("profile", "commands.py"): "no command: nothing of the records runs outside a request",
    ("tipi_payment", "agents_web.py"): "a provider has no agents' pages: the payments to check "
    "and the overpayments are billing's, whatever the provider",
    ("tipi_payment", "demo.py"): "no demo data: the demo's invoices are billing's, and a payment "
    "is made by whoever tries the demo",
    ("tipi_payment", "templates/{name}"): "no page: the invoice pages are billing's; its web.py "
    "only allows PayFiP's origin as a form target",
    ("tipi_payment", "templates/{name}/agents"): "no agents' page (see agents_web.py)",
}
"""``(plugin, role file) -> why the plugin has none``."""

PENDING: dict[str, str] = {}
"""Folders still being brought to the skeleton, and by what. Their problems are listed, not
failed; :func:`test_pending_folders_are_really_pending` makes the entry go once they conform."""

LAZY_OK = ("__future__", "typing", "collections", "datetime", "decimal", "famille_core")
"""What ``plugin.py`` may import at module level, besides its own ``settings``: everything else
(services, pages, Flask, click) is imported inside the hook that needs it, so that loading the
plugin costs nothing and an ERP without the web part still loads it."""

HOOKS_OF_ROLE = {
    "settings.py": "plugin_settings",
    "web.py": "register_blueprints",
    "commands.py": "register_commands",
    "demo.py": "populate_demo",
    "api.py": "api_operations",
}
"""A role file exists exactly when ``plugin.py`` implements the hook that hands it over."""


def _name(folder: Path) -> str:
    return folder.name.removeprefix("famille_") if folder.parent.name != "plugins" else folder.name


def _exists(folder: Path, role: str) -> bool:
    path = folder / role.format(name=_name(folder))
    if role == "services":
        return (folder / "services.py").is_file() or (folder / "services" / "__init__.py").is_file()
    return path.is_dir() if "templates" in role else path.is_file()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_hookimpl(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == "hookimpl"


def _hooks(plugin_py: Path) -> dict[str, ast.FunctionDef]:
    """The hook implementations of ``plugin.py`` by hook name (``specname=`` honoured)."""
    hooks: dict[str, ast.FunctionDef] = {}
    for node in _tree(plugin_py).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if _is_hookimpl(decorator):
                    name = node.name
                    if isinstance(decorator, ast.Call):
                        for keyword in decorator.keywords:
                            if keyword.arg == "specname" and isinstance(keyword.value, ast.Constant):
                                name = str(keyword.value.value)
                    hooks.setdefault(name, node)
    return hooks


def _imported(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.ImportFrom) and child.module:
            found.add(child.module)
            found |= {f"{child.module}.{alias.name}" for alias in child.names}
        elif isinstance(child, ast.Import):
            found |= {alias.name for alias in child.names}
    return found


def _package(folder: Path) -> str:
    return f"famille_plugins.{folder.name}" if folder.parent.name == "plugins" else folder.name


# --------------------------------------------------------------------------- the checks


def problems(folder: Path) -> list[str]:
    """Everything in ``folder`` that departs from the skeleton."""
    found: list[str] = []
    if not (folder / "plugin.py").is_file():
        return ["no plugin.py: the entry point names famille_<name>.plugin"]
    if folder.parent.name == "plugins":
        found += _missing_role_files(folder)
    found += _stray_modules(folder)
    found += _roles_match_hooks(folder)
    found += _plugin_py_holds_hooks_only(folder)
    found += _settings_read_one_way(folder)
    found += _pages(folder)
    return found


def _missing_role_files(folder: Path) -> list[str]:
    found = [
        f"lacks {role}: add it, or say why in ABSENT"
        for role in ROLE_FILES
        if not _exists(folder, role) and (folder.name, role) not in ABSENT
    ]
    found += [
        f"has {role} although ABSENT says it has none"
        for (plugin, role) in ABSENT
        if plugin == folder.name and _exists(folder, role)
    ]
    return found


def _stray_modules(folder: Path) -> list[str]:
    """Everything but the role files lives under ``services/``: one place to look for a use case."""
    allowed = {"__init__.py", *(role for role in ROLE_FILES if "/" not in role), "api.py", "services.py"}
    if folder.parent.name == "plugins":
        allowed |= {"templates", "static"}
    return [
        f"{path.name} belongs under services/ (or is a role file misnamed)"
        for path in sorted(folder.iterdir())
        if path.name not in allowed
        and (path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()))
    ]


def _roles_match_hooks(folder: Path) -> list[str]:
    """A role file exists exactly when ``plugin.py`` implements the hook that hands it over (and
    that hook uses it); a plugin said to have no agents' pages offers no agents' menu."""
    found = []
    hooks = _hooks(folder / "plugin.py")
    for role, hook in HOOKS_OF_ROLE.items():
        present = (folder / role).is_file()
        if present != (hook in hooks):
            found.append(f"{role} {'present' if present else 'absent'} but hook {hook} "
                         f"{'not ' if hook not in hooks else ''}implemented")
        elif present and role != "settings.py":
            module = f"{_package(folder)}.{role.removesuffix('.py')}"
            if module not in _imported(hooks[hook]):
                found.append(f"{hook} does not use {role}")
    no_agents = (folder.name, "agents_web.py") in ABSENT or not (folder / "agents_web.py").is_file()
    if no_agents and "menu_items" in hooks and "agent=True" in ast.unparse(hooks["menu_items"]):
        found.append("an agents' menu entry without agents_web.py")
    return found


def _plugin_py_holds_hooks_only(folder: Path) -> list[str]:
    found = []
    own_settings = f"{_package(folder)}.settings"
    for node in _tree(folder / "plugin.py").body:
        if isinstance(node, ast.FunctionDef):
            if not any(_is_hookimpl(d) for d in node.decorator_list):
                found.append(f"plugin.py: {node.name} is not a hook implementation (services/ holds helpers)")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = {node.module or ""} if isinstance(node, ast.ImportFrom) else {a.name for a in node.names}
            found += [
                f"plugin.py imports {module} when loaded: import it inside the hook that needs it"
                for module in modules
                if module != own_settings and module.split(".")[0] not in LAZY_OK
            ]
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            continue
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            found.append(f"plugin.py line {node.lineno}: neither a hook, an import nor the docstring")
    return found


def _settings_read_one_way(folder: Path) -> list[str]:
    """``settings_of(portal)`` in ``settings.py``; nothing else reads ``portal.config_for``."""
    if not (folder / "settings.py").is_file():
        return []
    found = []
    if "settings_of" not in {n.name for n in _tree(folder / "settings.py").body if isinstance(n, ast.FunctionDef)}:
        found.append("settings.py has no settings_of(portal)")
    for path in sorted(folder.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if path.name != "settings.py" and ("config_for(" in source or "plugin_config" in source):
            found.append(f"{path.relative_to(folder)} reads the settings without settings_of(portal)")
    return found


def _pages(folder: Path) -> list[str]:
    """Module-level blueprints named ``bp``; ``web.py`` never renders an agents' template; the
    agents' templates go with ``agents_web.py``."""
    found = []
    for role in ("web.py", "agents_web.py"):
        path = folder / role
        if not path.is_file():
            continue
        tree = _tree(path)
        module_level = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign) and "Blueprint(" in ast.unparse(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if "bp" not in module_level:
            found.append(f"{role}: the blueprint is `bp = Blueprint(...)` at module level")
        found += [
            f"{role}: a blueprint built inside {function.name}"
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef) and "Blueprint(" in ast.unparse(function)
        ]
        if role == "web.py":
            found += [
                f"web.py renders the agents' template {call.args[0].value}"
                for call in ast.walk(tree)
                if isinstance(call, ast.Call)
                and ast.unparse(call.func) == "render_template"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and str(call.args[0].value).startswith(f"{_name(folder)}/agents/")
            ]
    if (folder / "templates" / _name(folder) / "agents").is_dir() and not (folder / "agents_web.py").is_file():
        found.append("agents' templates without agents_web.py")
    return found


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("folder", [f for f in BUNDLED + EXAMPLES if f.name not in PENDING], ids=lambda f: f.name)
def test_the_plugin_follows_the_skeleton(folder: Path) -> None:
    assert problems(folder) == []


def test_the_bundled_plugins_are_checked() -> None:
    assert {"calendar", "inbox", "profile"} <= {folder.name for folder in BUNDLED}
    assert "famille_extra_reasons" in {folder.name for folder in EXAMPLES}


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_folders_are_really_pending(name: str) -> None:
    """An entry of :data:`PENDING` goes as soon as its folder conforms."""
    folders = [folder for folder in BUNDLED + EXAMPLES if folder.name == name]
    assert folders == [] or problems(folders[0]), f"{name} follows the skeleton now: remove it from PENDING"


def test_every_page_lives_in_the_module_of_its_audience(app: Flask, portal: Portal) -> None:
    """An agents' page is defined in an ``agents_web.py``, a families' page in a ``web.py``."""
    checked = 0
    for endpoint, view in app.view_functions.items():
        module = getattr(view, "__module__", "")
        if not module.startswith("famille_plugins.") or module.split(".")[1] in PENDING:
            continue
        audience = audience_of(view)
        if audience == AGENTS and not endpoint.split(".")[0].endswith("_moved"):
            assert module.endswith(".agents_web"), (endpoint, module)
            checked += 1
        elif audience == FAMILIES:
            assert module.endswith(".web"), (endpoint, module)
            checked += 1
    assert checked >= 20, "the bundled plugins have pages of both audiences"


def test_the_checks_catch_a_plugin_off_the_skeleton(tmp_path: Path) -> None:
    folder = tmp_path / "plugins" / "cantine"
    (folder / "templates" / "cantine" / "agents").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "plugin.py").write_text(
        "from famille_core import hookimpl\n"
        "from famille_plugins.cantine.services import menus\n"
        "LABEL = 'Cantine'\n\n"
        "def helper():\n    return 1\n\n"
        "@hookimpl\ndef register_commands(cli, portal_factory):\n    cli.add_command(menus.command)\n"
    )
    (folder / "settings.py").write_text("class CantineSettings:\n    pass\n")
    (folder / "menus.py").write_text("")
    (folder / "web.py").write_text(
        "from flask import Blueprint, render_template\n\n"
        "def make_blueprint():\n    return Blueprint('cantine', __name__)\n\n"
        "def page():\n    return render_template('cantine/agents/list.html')\n"
    )
    (folder / "other.py").write_text("def f(portal):\n    return portal.config_for('cantine')\n")
    found = "\n".join(problems(folder))
    for expected in (
        "lacks services",
        "lacks agents_web.py",
        "lacks demo.py",
        "menus.py belongs under services/",
        "settings.py present but hook plugin_settings not implemented",
        "commands.py absent but hook register_commands implemented",
        "web.py present but hook register_blueprints not implemented",
        "plugin.py: helper is not a hook implementation",
        "plugin.py imports famille_plugins.cantine.services when loaded",
        "plugin.py line 3",
        "settings.py has no settings_of(portal)",
        "other.py reads the settings without settings_of(portal)",
        "web.py: the blueprint is `bp = Blueprint(...)` at module level",
        "web.py: a blueprint built inside make_blueprint",
        "web.py renders the agents' template cantine/agents/list.html",
        "agents' templates without agents_web.py",
    ):
        assert expected in found, expected
