"""No tracker, web font or CDN (docs/security.md point 29): nothing a page loads comes from
another site. The CSP refuses it in browsers (test_auth_security); this finds it in the source."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOADS_FROM_ELSEWHERE = re.compile(
    r"""(?:\bsrc\s*=|<link\b[^>]*\bhref\s*=|@import|url\(|\bfetch\(|XMLHttpRequest|srcset\s*=)"""
    r"""\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def test_templates_and_static_files_load_nothing_from_elsewhere() -> None:
    files = [
        path
        for folder in ("host_flask", "plugins", "examples")
        for suffix in ("*.html", "*.js", "*.css")
        for path in (ROOT / folder).rglob(suffix)
    ]
    assert len(files) > 10, "the walk found no template: it would prove nothing"
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in files
        for match in LOADS_FROM_ELSEWHERE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_sees_a_third_party_script() -> None:
    for snippet in (
        '<script src="https://cdn.example/x.js"></script>',
        "<link rel=stylesheet href='//fonts.example/css'>",
        "body { background: url(https://tracker.example/p.gif) }",
        "@import 'https://fonts.example/f.css';",
    ):
        assert LOADS_FROM_ELSEWHERE.search(snippet), snippet
