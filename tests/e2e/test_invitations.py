"""Journey (a) of issue 15 in a real browser: an agent invites the demo families, the parent
opens the activation e-mail from the outbox, chooses a password and lands on Accueil. Every new
page is axe-clean and fits 320 px without horizontal scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from famille_core import Portal
from tests.e2e_fixtures import axe_violations, format_violations
from tests.mail_helpers import sent_emails, text_of

pytestmark = pytest.mark.e2e


def _checked(page: Page) -> None:
    """axe finds nothing, and at 320 px wide nothing scrolls sideways."""
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    page.set_viewport_size({"width": 1280, "height": 800})


def _log_in(page: Page, live_server: str, email: str, password: str) -> None:
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_an_agent_invites_the_families_and_a_parent_activates_from_the_e_mail(
    demo: Portal, live_server: str, page: Page
) -> None:
    _log_in(page, live_server, "admin@example.org", "alice-demo-password")
    page.get_by_role("link", name="Comptes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes")
    _checked(page)
    page.get_by_role("link", name="Inviter").click()
    expect(page.get_by_text("1 invitation par e-mail")).to_be_visible()
    _checked(page)
    page.get_by_role("button", name="Inviter").click()
    expect(page.get_by_text("Invitations faites")).to_be_visible()
    page.get_by_role("link", name="Retour aux comptes").click()
    page.get_by_role("link", name="Claire PETIT").click()
    expect(page.get_by_text("invitation envoyée par Alice")).to_be_visible()
    _checked(page)
    page.get_by_role("button", name="Se déconnecter").click()

    mail = [m for m in sent_emails(demo) if m["To"] == "claire.petit@example.org"][-1]
    assert mail["Subject"] == "Portail Famille : activez votre compte"
    match = re.search(r"https?://[^/\s]+(/activer#code=[\w-]+)", text_of(mail))
    assert match, text_of(mail)
    page.goto(f"{live_server}{match.group(1)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer mon compte")
    expect(page.locator("#f-token")).to_be_hidden()  # the page's script took the code
    assert "#" not in page.url
    _checked(page)
    page.locator("#f-password").fill("une phrase de passe toute neuve")
    page.get_by_label("Confirmer le mot de passe").fill("une phrase de passe toute neuve")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    expect(page.get_by_text("Votre compte est activé")).to_be_visible()
    expect(page.locator(".who")).to_have_text("Claire PETIT")  # logged in


def test_the_account_pages_of_a_parent_are_accessible(demo: Portal, live_server: str, page: Page) -> None:
    _log_in(page, live_server, "parent@example.org", "parent-demo-password")
    page.get_by_role("link", name="Adresse e-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon adresse e-mail de connexion")
    _checked(page)
    page.get_by_role("button", name="Changer d'adresse").click()  # empty: refused, linked error
    expect(page.get_by_role("alert")).to_be_visible()
    _checked(page)
