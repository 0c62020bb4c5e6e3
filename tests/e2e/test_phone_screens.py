"""Screenshots at 320 px of Accueil, Agenda, Factures and a message (kept in the test's temporary
folder), with no missing-glyph box: every character the page shows is drawn by an installed font
(an emoji where no emoji font is installed is drawn as the same empty box as a character no font
has, which the check compares against)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from famille_core import Portal
from famille_core.entities import Message
from tests.e2e.test_every_page import log_in

pytestmark = pytest.mark.e2e

MISSING_GLYPHS = """(extra) => {
  if (extra) { document.querySelector('h1').append(extra); }
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  const draw = (font, text) => {
    context.clearRect(0, 0, 64, 64);
    context.font = font;
    context.fillText(text, 8, 40);
    return Array.from(context.getImageData(0, 0, 64, 64).data).join(',');
  };
  const missing = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element || !element.checkVisibility()) continue;
    const style = getComputedStyle(element);
    const font = `${style.fontWeight} 32px ${style.fontFamily}`;
    const nothing = draw(font, '\\u{10FFFD}');  // a private-use code point: no font has it
    for (const char of node.textContent) {
      if (char.codePointAt(0) < 0x80 || /\\s/.test(char) || seen.has(font + char)) continue;
      seen.add(font + char);
      if (draw(font, char) === nothing) missing.push(`U+${char.codePointAt(0).toString(16).toUpperCase()} ${char}`);
    }
  }
  return missing;
}"""


def _message_id(portal: Portal) -> int:
    with portal.unit_of_work() as uow:
        message = uow.first(Message, order_by=("id",))
        assert message is not None and message.id is not None
        return message.id


def test_phone_screens_have_no_missing_glyph(
    demo: Portal, live_server: str, page: Page, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, live_server, "parent")
    screens = {
        "accueil": "/",
        "agenda": "/agenda/",
        "factures": "/factures/",
        "message": f"/messages/{_message_id(demo)}",
    }
    for name, path in screens.items():
        page.goto(f"{live_server}{path}")
        page.screenshot(path=tmp_path / f"{name}-320.png", full_page=True)
        assert page.evaluate(MISSING_GLYPHS, None) == [], f"{path}: missing glyphs"
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    # The check sees a missing glyph: a character no font has, added to the page.
    assert page.evaluate(MISSING_GLYPHS, "\U000f0001") == ["U+F0001 \U000f0001"]
