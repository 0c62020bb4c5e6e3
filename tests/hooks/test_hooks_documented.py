"""Every hook of famille_core/hooks/specs.py is documented in docs/hooks.md with its exact
signature, and the documentation names no hook that does not exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from famille_core.hooks import specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"


def spec_signatures() -> dict[str, str]:
    """``def name(args) -> result`` of each hook spec, as written in the source."""
    found = {}
    for name, function in inspect.getmembers(specs, inspect.isfunction):
        if not hasattr(function, "famille_spec"):
            continue
        found[name] = f"def {name}{inspect.signature(function)}".replace("'", "")
    return found


def documented() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### `", text, flags=re.M)[1:]
    result = {}
    for section in sections:
        name = section.split("`", 1)[0]
        match = re.search(r"```python\n(def .*?)\n```", section, flags=re.S)
        assert match, f"docs/hooks.md: the section of {name} has no signature block"
        result[name] = " ".join(match.group(1).split())
    return result


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    docs = documented()
    for name, signature in spec_signatures().items():
        assert name in docs, f"docs/hooks.md does not document the hook {name}"
        assert docs[name] == " ".join(signature.split()), f"signature of {name} differs"


def test_documentation_names_only_existing_hooks() -> None:
    assert set(documented()) == set(spec_signatures())
