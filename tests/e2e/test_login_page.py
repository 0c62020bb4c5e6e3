"""Smoke journey in a real browser: the login page, keyboard only, and an axe scan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e_fixtures import axe_violations, format_violations

pytestmark = pytest.mark.e2e


def test_login_page_has_no_wcag_violations(demo, live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/connexion")
    expect(page).to_have_title("Connexion — Commune d'Harmonie")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


def test_parent_logs_in_with_keyboard_only_and_sees_home(
    demo, live_server: str, page: Page
) -> None:
    page.goto(f"{live_server}/connexion")
    # The first Tab lands on the skip link, which leads to the content.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")  # brand link
    page.keyboard.press("Tab")  # footer-less header: next is the e-mail field inside <main>
    # Reach the e-mail field by tabbing, whatever the header holds.
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("parent@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("parent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    nav = page.get_by_role("navigation", name="Menu principal")
    for label in ("Mon compte", "Boîte de réception", "Agenda", "Factures"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


def test_wrong_password_shows_french_error(demo, live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_label("Mot de passe").fill("not-the-right-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    assert page.url.endswith("/connexion")


def test_no_horizontal_scroll_at_320px(demo, live_server: str, page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server}/connexion")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_public_pages_have_no_wcag_violations(demo, live_server: str, page: Page) -> None:
    for path in (
        "/mot-de-passe-oublie",
        "/mentions-legales",
        "/accessibilite",
        "/donnees-personnelles",
    ):
        page.goto(f"{live_server}{path}")
        violations = axe_violations(page)
        assert violations == [], f"{path}: {format_violations(violations)}"


def test_forgotten_password_journey_by_keyboard(demo, live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Si un compte utilise cette adresse")


def test_second_factor_setup_page_is_accessible(demo, live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("agent@example.org")
    page.get_by_label("Mot de passe").fill("agent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    page.goto(f"{live_server}/securite/double-authentification")
    expect(page.get_by_role("img", name="Code QR de la clé de double authentification")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
