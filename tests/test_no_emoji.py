"""No emoji nor other pictographs in the templates, stylesheets, scripts and the Python code that
builds what pages show (a state's symbol in a plugin's services): where no emoji font
is installed (many phones' browsers, Debian's Chromium without fonts-noto-color-emoji) they show
as empty boxes. States are words, icons are inline SVG with a text alternative
(docs/accessibility.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PICTOGRAPHS = re.compile(
    "["
    "\U0001f000-\U0001faff"  # emoji, pictographs, symbols and their extensions
    "\u2600-\u27bf"  # miscellaneous symbols, dingbats (✕ ✓ ☀ …)
    "\u2b00-\u2bff"  # arrows and shapes drawn as emoji (⬛ ⭐)
    "\u2300-\u23ff"  # technical symbols shown as emoji (⌚ ⏰ ⏳)
    "\ufe0f\u200d"  # emoji presentation selector, zero-width joiner
    "]"
)


def offenders(text: str) -> list[str]:
    """The pictographs of ``text`` with their code points."""
    return [f"U+{ord(char):04X} {char}" for char in PICTOGRAPHS.findall(text)]


def test_the_pattern_finds_emoji_and_leaves_french_alone() -> None:
    assert offenders("🔒 📅 ✕ fermé ⏰") == ["U+1F512 🔒", "U+1F4C5 📅", "U+2715 ✕", "U+23F0 ⏰"]
    assert offenders("Réservé — « Cantine » : 4,15 € · n° 12 ½ → ≤") == []


def test_no_template_stylesheet_script_or_module_holds_a_pictograph() -> None:
    files = [
        path
        for folder in ("host_flask", "plugins", "examples")
        for suffix in ("*.html", "*.css", "*.js", "*.py")
        for path in (ROOT / folder).rglob(suffix)
    ]
    assert len(files) > 30, "the walk found no template: it would prove nothing"
    found = {
        str(path.relative_to(ROOT)): offenders(path.read_text(encoding="utf-8"))
        for path in files
    }
    assert {path: chars for path, chars in found.items() if chars} == {}
