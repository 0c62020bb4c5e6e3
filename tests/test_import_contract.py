"""The import contract: who may import whom (docs/architecture.md, "What may import what").

Read from the source (AST), not from a running interpreter, so that every import counts: those
inside functions too (a lazy import is still a dependency), but not those under
``if TYPE_CHECKING:`` (annotations only, never executed). The rules:

1. the core (``famille_core``) imports neither the host nor a plugin;
2. a plugin imports no other plugin (they talk through hooks and ``famille_core``);
3. a plugin imports nothing of the host but ``host_flask.toolkit``;
4. a plugin's modules without web (everything but ``web``, ``agents_web``, ``api`` and
   ``*_web``) import neither its web modules nor Flask and its family, nor the host at all —
   except ``plugin.py``, which hands the host its blueprints and API operations by importing
   its web modules *inside* the hook implementations;
5. no import cycle anywhere (the strongly connected components of the module graph);
6. production code never imports a development tool (:data:`DEV_TOOLS`: the PayFiP simulator),
   except through the one door each has (the command that serves it).

The examples under ``examples/`` are plugins like the bundled ones and follow the same rules.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from attrs import frozen

ROOT = Path(__file__).resolve().parents[1]

CORE = "famille_core"
HOST = "host_flask"
PLUGINS = "famille_plugins"
TOOLKIT = "host_flask.toolkit"
WEB_NAMES = {"web", "agents_web", "api"}
"""Module names of a plugin's web part (and any name ending in ``_web``)."""
WEB_LIBRARIES = {"flask", "flask_babel", "flask_wtf", "werkzeug", "jinja2"}
"""What comes with the host's ``web`` extra only."""

@frozen
class DevTool:
    """A development tool among a plugin's modules without web."""

    web: frozenset[str]
    """The web libraries it may import (it is a small WSGI application of its own)."""
    doors: frozenset[str]
    """The only project modules that may import it, inside a function (a command)."""


DEV_TOOLS: dict[str, DevTool] = {
    "famille_plugins.tipi_payment.services.simulator": DevTool(
        web=frozenset({"werkzeug"}), doors=frozenset({"famille_plugins.tipi_payment.commands"})
    ),
}
"""The development tools, by module (docs/payment.md, "Commands"): the tests import them too;
the base install leaves them out (``tests/test_base_install.py``)."""


@frozen
class Import:
    """One import statement's target, as seen from ``source``."""

    source: str
    target: str
    """The module imported: a module of the project, or an outside package's top-level name."""
    line: int
    lazy: bool
    """Inside a function (runs when the function does), rather than at import time."""


# --------------------------------------------------------------------------- reading the graph


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project by dotted name: the core, the host, the bundled plugins
    (folder ``plugins/``, imported as ``famille_plugins``) and the examples."""
    trees = {CORE: root / "famille_core", HOST: root / "host_flask", PLUGINS: root / "plugins"}
    for pyproject in sorted((root / "examples").glob("*/pyproject.toml")):
        for package in sorted(pyproject.parent.glob("*/__init__.py")):
            trees[package.parent.name] = package.parent
    modules: dict[str, Path] = {}
    for name, folder in trees.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    for script in sorted((root / "examples").glob("*.py")):
        modules[f"examples.{script.stem}"] = script
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST, lazy: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement, with whether it runs inside a function; ``if TYPE_CHECKING:``
    bodies are skipped (their ``else`` is not)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield from _statements(ast.Module(body=[other], type_ignores=[]), lazy)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, lazy
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _statements(node, inner)


def imports_of(name: str, source: str, known: Iterable[str], is_package: bool) -> list[Import]:
    """The imports of module ``name`` whose text is ``source``; ``known`` are the project's
    modules (a ``from package import submodule`` imports the submodule)."""
    known = set(known)

    def resolve(dotted: str) -> str:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in known:
                return ".".join(parts[:end])
        return parts[0]

    found = []
    for node, lazy in _statements(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [resolve(alias.name) for alias in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else resolve(base)
                for alias in node.names
            ]
        found += [Import(name, target, node.lineno, lazy) for target in targets if target != name]
    return found


def module_graph(
    modules: dict[str, Path], extra: dict[str, str] | None = None
) -> dict[str, list[Import]]:
    """Each module's imports; ``extra`` adds modules given by their source text (the test of
    the test feeds forbidden imports this way)."""
    sources = {
        name: (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for name, path in modules.items()
    }
    for name, text in (extra or {}).items():
        sources[name] = (textwrap.dedent(text), False)
    return {
        name: imports_of(name, text, sources, package) for name, (text, package) in sources.items()
    }


# --------------------------------------------------------------------------- the rules


def plugin_of(module: str) -> str | None:
    """The plugin a module belongs to (``famille_plugins.calendar``, an example's package or
    script), or ``None`` for the core and the host."""
    top = module.split(".")[0]
    if top == PLUGINS:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else None
    if top in (CORE, HOST):
        return None
    return module if top == "examples" else top


def is_web(module: str) -> bool:
    """A plugin's web module: its pages, its agents' pages, its API operations."""
    plugin = plugin_of(module)
    if plugin is None or module == plugin:
        return False
    inside = module.removeprefix(plugin + ".").split(".")
    return any(part in WEB_NAMES or part.endswith("_web") for part in inside)


def is_hook_file(module: str) -> bool:
    """The module an entry point names: ``plugin.py``, or an example's package itself."""
    plugin = plugin_of(module)
    return plugin is not None and module in (plugin, f"{plugin}.plugin")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(graph: dict[str, list[Import]]) -> list[str]:
    """Every import that breaks rules 1–4, described for a person."""
    found = []
    for module, imports in sorted(graph.items()):
        plugin = plugin_of(module)
        for imp in imports:
            where = f"{module}:{imp.line} imports {imp.target}"
            target_plugin = plugin_of(imp.target) if imp.target in graph else None
            if _within(module, CORE):
                if _within(imp.target, HOST) or target_plugin is not None:
                    found.append(f"{where}: the core imports neither the host nor a plugin")
                continue
            if plugin is None:
                continue
            if target_plugin is not None and target_plugin != plugin:
                found.append(f"{where}: a plugin imports no other plugin")
            if _within(imp.target, HOST) and imp.target != TOOLKIT:
                found.append(f"{where}: a plugin imports nothing of the host but {TOOLKIT}")
            tool = DEV_TOOLS.get(imp.target)
            if tool is not None and not (module in tool.doors and imp.lazy):
                found.append(f"{where}: production code never imports a development tool")
            if is_web(module):
                continue
            if module in DEV_TOOLS and imp.target in DEV_TOOLS[module].web:
                continue
            if imp.target in WEB_LIBRARIES or imp.target == TOOLKIT:
                found.append(f"{where}: a module without web imports neither Flask nor the host")
            elif (
                target_plugin == plugin
                and is_web(imp.target)
                and not (is_hook_file(module) and imp.lazy)
            ):
                found.append(
                    f"{where}: a module without web imports no web module "
                    "(plugin.py may, inside a hook implementation)"
                )
    return found


def cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module, or a module
    importing itself (Tarjan's algorithm)."""
    edges = {
        m: sorted({i.target for i in imports if i.target in graph}) for m, imports in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges)))
    try:
        for node in sorted(edges):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return found


# --------------------------------------------------------------------------- the project obeys


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return module_graph(project_modules())


def test_the_graph_holds_every_part_of_the_project(graph: dict[str, list[Import]]) -> None:
    for module in (
        "famille_core.portal",
        "host_flask.app",
        TOOLKIT,
        "famille_plugins.calendar.plugin",
        "famille_plugins.inbox.web",
        "famille_desk_payment",
        "famille_extra_reasons",
        "examples.erp_embedding",
    ):
        assert module in graph, module
    lazy = [i for i in graph["famille_plugins.calendar.plugin"] if i.lazy]
    assert any(i.target == "famille_plugins.calendar.web" for i in lazy)


def test_every_import_follows_the_contract(graph: dict[str, list[Import]]) -> None:
    assert violations(graph) == []


def test_no_import_cycle_anywhere(graph: dict[str, list[Import]]) -> None:
    assert cycles(graph) == []


def test_each_development_tool_is_reached_through_its_door_only(
    graph: dict[str, list[Import]],
) -> None:
    """The simulator is there, still needs what it is allowed, and only its command imports it
    (inside the command); no production module of billing or tipi_payment does."""
    for module, tool in DEV_TOOLS.items():
        assert module in graph, module
        assert tool.web <= {i.target for i in graph[module]}, f"{module}: drop what it no longer uses"
        importers = {source for source, imports in graph.items() for i in imports if i.target == module}
        assert importers == set(tool.doors), importers


# --------------------------------------------------------------------------- the test can fail


FORBIDDEN = {
    # module added to the real project → the rule its import breaks
    "famille_core.sneaky": (
        "def f():\n    from host_flask.app import create_app\n",
        "the core imports neither the host nor a plugin",
    ),
    "famille_core.sneaky_plugin": (
        "from famille_plugins.inbox import services\n",
        "the core imports neither the host nor a plugin",
    ),
    "famille_plugins.calendar.sneaky": (
        "def f():\n    from famille_plugins.inbox.services import send_message\n",
        "a plugin imports no other plugin",
    ),
    "famille_plugins.calendar.sneaky_web": (
        "from host_flask.context import get_portal\n",
        "a plugin imports nothing of the host but host_flask.toolkit",
    ),
    "famille_plugins.profile.services.sneaky": (
        "import flask\n",
        "a module without web imports neither Flask nor the host",
    ),
    "famille_plugins.inbox.sneaky": (
        "def f():\n    from host_flask import toolkit\n",
        "a module without web imports neither Flask nor the host",
    ),
    "famille_plugins.inbox.sneaky_page": (
        "from famille_plugins.inbox.web import bp\n",
        "a module without web imports no web module",
    ),
    "famille_desk_payment.sneaky": (
        "from famille_plugins.tipi_payment import services\n",
        "a plugin imports no other plugin",
    ),
    "famille_plugins.billing.services.sneaky": (
        "from famille_plugins.tipi_payment.services import providers\n",
        "a plugin imports no other plugin",
    ),
    "famille_plugins.tipi_payment.services.sneaky": (
        "def f():\n    from famille_plugins.billing.services import payments\n",
        "a plugin imports no other plugin",
    ),
    "famille_plugins.tipi_payment.services.sneaky_sim": (
        "def f():\n    from famille_plugins.tipi_payment.services.simulator import PayfipSimulator\n",
        "production code never imports a development tool",
    ),
    "famille_plugins.tipi_payment.sneaky_web": (
        "from famille_plugins.tipi_payment.services.simulator import PayfipSimulator\n",
        "production code never imports a development tool",
    ),
}


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_a_forbidden_import_added_to_the_project_is_refused(module: str) -> None:
    source, rule = FORBIDDEN[module]
    found = violations(module_graph(project_modules(), {module: source}))
    assert len(found) == 1 and found[0].startswith(module) and rule in found[0], found


def test_imports_under_type_checking_are_allowed_and_else_branches_are_not() -> None:
    allowed = """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from famille_plugins.inbox.services import Upload
            from host_flask.app import create_app
    """
    assert violations(module_graph(project_modules(), {"famille_core.typed": allowed})) == []
    refused = textwrap.dedent(allowed) + "else:\n    import flask\n"
    found = violations(module_graph(project_modules(), {"famille_plugins.calendar.typed": refused}))
    assert len(found) == 1 and "imports flask" in found[0]


def test_plugin_py_may_import_its_web_modules_only_inside_a_hook() -> None:
    lazy = "def register_blueprints(portal):\n    from famille_desk_payment.web import bp\n    return [bp]\n"
    at_import = "from famille_desk_payment.web import bp\n"
    page = "from host_flask import toolkit\n"
    for hook_file, expected in ((lazy, 0), (at_import, 1)):
        graph = module_graph(
            project_modules(),
            {"famille_desk_payment": hook_file, "famille_desk_payment.web": page},
        )
        assert len(violations(graph)) == expected, violations(graph)


def test_a_cycle_through_an_import_inside_a_function_is_found() -> None:
    graph = module_graph(
        project_modules(),
        {
            "famille_plugins.calendar.services.sneaky_a": (
                "from famille_plugins.calendar.services import sneaky_b\n"
            ),
            "famille_plugins.calendar.services.sneaky_b": (
                "def f():\n    from famille_plugins.calendar.services.sneaky_a import x\n"
            ),
        },
    )
    assert cycles(graph) == [
        ["famille_plugins.calendar.services.sneaky_a", "famille_plugins.calendar.services.sneaky_b"]
    ]
