"""Keyboard-only journey in Debian's Chromium: the demo parent opens "Agenda", books a day, sees it
"réservé", declares an absence with "RAISON MEDICALE" and sees the day "absent"; the database
agrees. The page passes axe (WCAG 2.1 A/AA) and fits 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from famille_core import Portal
from famille_core.entities import Absence, Activity, Child, Reservation
from tests.e2e_fixtures import axe_violations, format_violations

pytestmark = pytest.mark.e2e


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never received the focus")


def login_by_keyboard(page: Page, base: str) -> None:
    """The demo parent logs in, by keyboard only."""
    page.goto(f"{base}/connexion")
    tab_to(page, "#email")
    page.keyboard.type("parent@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("parent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")


def test_parent_books_and_declares_absence_with_keyboard_only(demo: Portal, live_server: str, page: Page) -> None:
    with demo.unit_of_work() as uow:
        emma = uow.first(Child, first_name="Emma")
        cantine = uow.first(Activity, code="CANTINE")
        assert emma is not None and cantine is not None
        emma_id, cantine_id = emma.id, cantine.id

    login_by_keyboard(page, live_server)

    tab_to(page, "nav a[href='/agenda/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)

    # Into the grid (one tab stop: today), then arrows to Thursday 19 November.
    tab_to(page, "a.day")
    assert page.evaluate("document.activeElement.dataset.day") == "2026-11-16"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.day") == "2026-11-19"
    page.keyboard.press("Enter")
    expect(page.locator("#titre-jour")).to_be_focused()
    tab_to(page, f"#reserver-{cantine_id}")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("jeudi 19 novembre 2026 : réservé.")
    day = page.locator("a.day[data-day='2026-11-19']")
    expect(day).to_be_focused()  # focus returns to the day
    expect(day).to_have_attribute("aria-label", "jeudi 19 novembre 2026, Cantine : réservé, Accueil du soir : réservable")

    # Declare an absence: reason from the list, then "Confirmer".
    page.keyboard.press("Enter")
    expect(page.locator("#titre-jour")).to_be_focused()
    tab_to(page, "#f-reason")
    page.keyboard.type("RAISON")
    assert page.evaluate("document.activeElement.value") == "MEDICAL"
    tab_to(page, "#confirmer-absence")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Absence enregistrée (RAISON MEDICALE)")
    expect(day).to_have_attribute(
        "aria-label",
        "jeudi 19 novembre 2026, Cantine : absent (RAISON MEDICALE), Accueil du soir : absent (RAISON MEDICALE)",
    )
    expect(day).to_contain_text("absent (RAISON MEDICALE)")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)

    with demo.unit_of_work() as uow:
        booked = uow.find(Reservation, child_id=emma_id)
        absent = uow.find(Absence, child_id=emma_id)
        assert [(r.day.isoformat(), r.activity_id, str(r.state)) for r in booked] == [("2026-11-19", cantine_id, "accepted")]
        assert sorted((a.day.isoformat(), a.reason_code) for a in absent) == [("2026-11-19", "MEDICAL")] * 2


def test_agenda_month_keys_and_narrow_screen(demo: Portal, live_server: str, page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_label("Mot de passe").fill("parent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    page.goto(f"{live_server}/agenda/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab_to(page, "a.day")
    page.keyboard.press("End")
    # At 320 px the month is a list of the open days: the week's last listed day is Friday.
    assert page.evaluate("document.activeElement.dataset.day") == "2026-11-20"
    page.keyboard.press("PageDown")
    expect(page.locator("#titre-mois")).to_contain_text("Décembre 2026")


def test_agent_pages_pass_axe_and_refuse_by_keyboard(demo: Portal, live_server: str, page: Page) -> None:
    # The demo holds a pending "Accueil du soir" request of Lucas (populate_demo).
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("agent@example.org")
    page.get_by_label("Mot de passe").fill("agent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    page.goto(f"{live_server}/gestion/agenda/demandes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes de réservation")
    expect(page.locator("tbody tr")).to_have_count(1)
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    tab_to(page, "input[name='reason']")
    page.keyboard.type("Groupe complet")
    page.keyboard.press("Enter")  # submits the refusal form
    expect(page.get_by_role("status")).to_contain_text("Demande refusée.")
    expect(page.get_by_text("Aucune demande en attente.")).to_be_visible()
    with demo.unit_of_work() as uow:
        (refused,) = uow.find(Reservation, state="refused")
        assert refused.refusal_reason == "Groupe complet"
    page.goto(f"{live_server}/gestion/agenda/effectifs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Effectifs du lundi 16 novembre 2026")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
