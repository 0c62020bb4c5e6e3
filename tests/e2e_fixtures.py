"""Browser fixtures: Debian's Chromium driven by Playwright (pytest-playwright), the portal served
from a thread, and an axe-core scan.

Playwright never downloads a browser here: the launch arguments point at Debian's Chromium. Where
none is installed the browser tests skip, saying how to enable them; CI installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium_path() -> str | None:
    """Debian's Chromium, or ``FAMILLE_CHROMIUM`` when set."""
    configured = os.environ.get("FAMILLE_CHROMIUM")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run installs Debian's 'chromium'.")
        pytest.skip(
            "Browser tests need Debian's Chromium: 'apt-get install chromium' (CI does it)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI ``app`` from a thread on ``port`` (0: a free one); yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served on a free local port; yields its base URL."""
    with serving(app) as url:
        yield url


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds on ``page`` (each with its nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations: list[dict[str, Any]] = results.response.get("violations", [])
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    """A readable summary for assertion messages."""
    return "\n".join(
        f"{v['id']}: {v['help']} -> {[n.get('target') for n in v.get('nodes', [])][:5]}"
        for v in violations
    )


FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def assert_fits_and_passes_axe(page: Any) -> None:
    """No horizontal scroll once the page has loaded, and no axe violation. The width is read
    after the page's load event and given a few seconds: under a whole suite's load a page
    measured a moment after its text appeared was still being laid out without its stylesheet."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.wait_for_load_state("load")
    try:
        page.wait_for_function(FITS, timeout=5000)
    except PlaywrightTimeoutError:
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        raise AssertionError(f"{page.url} scrolls sideways: content {widths[0]} px in {widths[1]} px") from None
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
