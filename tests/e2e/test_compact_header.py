"""The compact header on a phone (docs/accessibility.md): at 320 × 640 the header is one short
line and the menu waits behind a "Menu" button that opens by keyboard without JavaScript; at
1280 px the button is hidden and the menu shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from famille_core import Portal
from tests.e2e.test_every_page import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_the_menu_waits_behind_a_button_on_a_phone(
    demo: Portal, live_server: str, browser: Browser, javascript: bool
) -> None:
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, java_script_enabled=javascript
    )
    page = context.new_page()
    log_in(page, live_server, "parent")
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= 80, header
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert heading is not None and heading["y"] < 120, heading
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav).to_be_hidden()
    page.locator("summary", has_text="Menu").focus()
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="Factures")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    nav.get_by_role("link", name="Factures").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Factures")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    expect(nav.get_by_role("link", name="Factures")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    context.close()
