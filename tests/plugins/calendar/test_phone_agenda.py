"""The Agenda's details (issue 17, points 2 and 5): words and inline SVG icons instead of emoji,
holidays grouped, unique titles per state ("Erreur : …" on refused forms), keys promised only
with JavaScript, the semaine type's weekday error linked to its control, French messages
instead of the browser's bubble on the absence form."""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import csrf_token
from tests.plugins.calendar.conftest import Demo

TEMPLATES = Path(__file__).parents[3] / "plugins" / "calendar" / "templates"


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match
    return html.unescape(" ".join(match.group(1).split()))


def _symbols(text: str) -> set[str]:
    """Emoji and other symbol characters (they show as empty boxes where no font has them)."""
    return {char for char in text if ord(char) > 0x2000 and unicodedata.category(char) == "So"}


def test_calendar_templates_and_pages_hold_no_emoji_nor_symbol_characters(
    parent_client: FlaskClient, cal: Demo
) -> None:
    """Icons are inline SVG next to the words."""
    assert {path.name: _symbols(path.read_text(encoding="utf-8")) for path in TEMPLATES.rglob("*.html")} == {
        path.name: set() for path in TEMPLATES.rglob("*.html")
    }
    for path in (f"/agenda/?enfant={cal.lucas}&mois=2026-11", f"/agenda/?enfant={cal.lucas}&jour=2026-11-23", "/agenda/foyer?du=2026-11-23", "/"):
        assert _symbols(parent_client.get(path).get_data(as_text=True)) == set(), path


def test_month_shows_words_per_activity_svg_icons_and_grouped_holidays(parent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get(f"/agenda/?enfant={cal.emma}&mois=2026-12").get_data(as_text=True)
    assert '<span class="state-words">Cantine : réservable</span>' in page
    assert '<svg class="icon icon-bookable"' in page and 'aria-hidden="true" focusable="false"' in page
    assert "Vacances de Noël, du 21/12 au 01/01" in page
    # The holidays are one line, not a closed mark on each day: the days say "fermé" once each.
    shown = page.split('data-day="2026-12-24"')[1].split("</td>")[0].split('">', 1)[1]
    assert shown.count("fermé") == 1 and "Cantine" not in shown


def test_titles_say_the_child_the_month_and_the_state(parent_client: FlaskClient, cal: Demo) -> None:
    commune = cal.portal.settings.collectivity.name
    page = parent_client.get(f"/agenda/?enfant={cal.emma}&mois=2026-12").get_data(as_text=True)
    assert _title(page) == f"Agenda — Emma — décembre 2026 — {commune}"
    page = parent_client.get(f"/agenda/?enfant={cal.lucas}&mois=2026-12").get_data(as_text=True)
    assert _title(page) == f"Agenda — Lucas — décembre 2026 — {commune}"
    page = parent_client.get(f"/agenda/?enfant={cal.emma}&jour=2026-11-19").get_data(as_text=True)
    assert _title(page) == f"Agenda — Emma — jeudi 19 novembre 2026 — {commune}"
    token = csrf_token(parent_client, "/agenda/")
    response = parent_client.post(
        "/agenda/reserver",
        data={"csrf_token": token, "child_id": cal.emma, "activity_id": cal.cantine, "day": "2026-11-18"},
    )
    assert response.status_code == 422
    assert _title(response.get_data(as_text=True)).startswith("Erreur : Agenda — Emma — ")


def test_keys_are_promised_only_with_javascript(parent_client: FlaskClient, cal: Demo) -> None:
    page = parent_client.get("/agenda/").get_data(as_text=True)
    assert '<p id="aide-clavier" class="hint" hidden>' in page
    assert 'aria-describedby="aide-grille"' in page and "flèches" not in page.split('id="aide-grille"')[1].split("</p>")[0]


def test_weekday_error_is_linked_to_its_control_and_absence_form_has_no_browser_bubble(
    parent_client: FlaskClient, cal: Demo
) -> None:
    token = csrf_token(parent_client, "/agenda/")
    response = parent_client.post(
        "/agenda/semaine-type",
        data={"csrf_token": token, "child_id": cal.emma, "activity_id": cal.cantine, "start": "2026-11-19", "end": "2026-11-30"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#f-weekdays">Cochez au moins un jour de la semaine.' in page
    assert '<fieldset class="field-error" aria-describedby="f-weekdays-error">' in page
    assert 'id="f-weekdays" aria-invalid="true" aria-describedby="f-weekdays-error"' in page
    day = parent_client.get(f"/agenda/?enfant={cal.emma}&jour=2026-11-19").get_data(as_text=True)
    assert re.search(r'<form [^>]*class="absence-form" novalidate>', day)
