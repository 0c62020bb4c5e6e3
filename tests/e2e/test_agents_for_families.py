"""Journey (b) of issue 15 in a real browser: an agent acts for the DUPONT family, books a day
for Emma past the deadline with a reason, and the parent then sees it done by the town; and
"Message groupé" from choice to preview to sending. Every new page is axe-clean and fits 320 px
without horizontal scrolling (docs/agents.md)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from famille_core import Portal
from tests.e2e.test_invitations import _checked, _log_in

pytestmark = pytest.mark.e2e

TUESDAY = "2026-11-17"
"""Past the J-2 10:00 deadline on Monday 16 November 09:00 (the tests' clock), still to come."""


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "portal": {**settings_data["portal"], "acting_services": ["ENFANCE"]}}


def test_an_agent_books_for_emma_past_the_deadline_and_the_parent_sees_the_town_did_it(
    demo: Portal, live_server: str, page: Page
) -> None:
    _log_in(page, live_server, "agent@example.org", "agent-demo-password")
    page.goto(f"{live_server}/gestion/familles/?q=DUPONT")
    page.get_by_role("link", name="DUPONT").first.click()
    page.get_by_role("button", name="Agir pour la famille").click()
    banner = page.locator(".acting-banner")
    expect(banner).to_contain_text("Vous agissez pour la famille DUPONT")
    _checked(page)
    banner.get_by_role("link", name="Agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    page.get_by_label("Enfant").select_option(label="Emma DUPONT")
    page.get_by_role("button", name="Afficher").click()
    page.locator(f'a[data-day="{TUESDAY}"]').click()
    expect(page.get_by_role("button", name="Réserver hors délai Cantine")).to_be_visible()
    expect(banner).to_contain_text("Vous agissez pour la famille DUPONT")
    _checked(page)
    page.get_by_role("button", name="Réserver hors délai Cantine").click()  # no reason: refused
    expect(page.get_by_role("alert")).to_contain_text("indiquez le motif")
    _checked(page)
    page.get_by_label("Motif (obligatoire)").first.fill("Appel de Mme DUPONT : garde imprévue")
    page.get_by_role("button", name="Réserver hors délai Cantine").click()
    expect(page.get_by_text("mardi 17 novembre 2026 : réservé.")).to_be_visible()
    expect(page.locator(".day-panel")).to_contain_text("fait par la mairie")
    banner.get_by_role("button", name="Terminer").click()
    expect(page.locator(".acting-banner")).to_have_count(0)
    page.get_by_role("button", name="Se déconnecter").click()

    _log_in(page, live_server, "parent@example.org", "parent-demo-password")
    page.goto(f"{live_server}/agenda/?jour={TUESDAY}")
    page.get_by_label("Enfant").select_option(label="Emma DUPONT")
    page.get_by_role("button", name="Afficher").click()
    page.locator(f'a[data-day="{TUESDAY}"]').click()
    panel = page.locator(".day-panel")
    expect(panel).to_contain_text("réservé")
    expect(panel).to_contain_text("fait par la mairie")
    expect(page.get_by_role("button", name="Réserver hors délai Cantine")).to_have_count(0)
    page.get_by_role("link", name="Boîte de réception").first.click()
    page.get_by_role("link", name="Fait pour vous par la mairie").first.click()
    expect(page.get_by_text("Motif indiqué : Appel de Mme DUPONT : garde imprévue")).to_be_visible()


def test_an_agent_previews_and_sends_a_group_message(demo: Portal, live_server: str, page: Page) -> None:
    _log_in(page, live_server, "agent@example.org", "agent-demo-password")
    page.get_by_role("link", name="Message groupé").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Message groupé")
    _checked(page)
    page.get_by_label("Activité", exact=True).select_option(label="Accueil du soir")
    page.get_by_label("Du", exact=True).fill("2026-11-19")
    page.get_by_label("Titre (obligatoire)").fill("Grève du jeudi 19 novembre")
    page.get_by_label("Message (obligatoire)").fill("L'accueil du soir est fermé jeudi.")
    page.get_by_role("button", name="Voir le nombre de foyers").click()
    expect(page.locator("#nombre-foyers")).to_contain_text("3 foyers recevront ce message")
    _checked(page)
    page.get_by_role("button", name="Envoyer à 3 foyers").click()
    expect(page.get_by_text("il part vers 3 foyer(s)")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Grève du jeudi 19 novembre")
    _checked(page)
