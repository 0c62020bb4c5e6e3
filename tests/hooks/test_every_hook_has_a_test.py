"""Every hook of famille_core/hooks/specs.py has a test of its own in tests/hooks/, named
``test_<hook>_…`` (as datasette checks that each hook has documentation and a test): a new hook
without one fails here. docs/hooks.md is checked by test_hooks_documented.py."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from pathlib import Path

from famille_core.hooks import specs

HERE = Path(__file__).resolve().parent


def spec_names() -> set[str]:
    """The hooks of the catalogue."""
    return {
        name
        for name, function in inspect.getmembers(specs, inspect.isfunction)
        if hasattr(function, "famille_spec")
    }


def hook_tests(folder: Path = HERE) -> set[str]:
    """Every test function of the folder's modules, read from their source."""
    names = set()
    for path in folder.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def untested(hooks: Iterable[str], tests: Iterable[str]) -> list[str]:
    """The hooks no test is named after (``test_<hook>`` or ``test_<hook>_…``)."""
    tests = set(tests)
    return sorted(
        hook
        for hook in hooks
        if not any(t == f"test_{hook}" or t.startswith(f"test_{hook}_") for t in tests)
    )


def test_every_hook_has_a_test_named_after_it() -> None:
    missing = untested(spec_names(), hook_tests())
    assert missing == [], f"hooks without a test in tests/hooks/: {', '.join(missing)}"


def test_a_hook_without_a_test_is_found() -> None:
    tests = {"test_closed_days_collected", "test_on_payment", "test_payment_link_wins"}
    assert untested(["closed_days", "on_payment", "payment_link", "payment_methods"], tests) == [
        "payment_methods"
    ]
    assert untested(["on_payment"], {"test_on_payments_elsewhere"}) == ["on_payment"]
    assert untested([*spec_names(), "new_hook"], hook_tests()) == ["new_hook"]
