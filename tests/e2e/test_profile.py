"""Mon compte and Mes enfants in Debian's Chromium: the demo parent edits the Conjoint's phone
and adds an authorised person, reloads and sees both; the pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from famille_core.entities import AuthorizedPerson, Guardian, GuardianRole
from tests.e2e_fixtures import axe_violations, format_violations

pytestmark = pytest.mark.e2e


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_label("Mot de passe").fill("parent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")


def test_parent_edits_conjoint_phone_and_adds_an_authorised_person(demo, live_server: str, page: Page) -> None:
    _login(page, live_server)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    assert axe_violations(page) == [], format_violations(axe_violations(page))
    page.get_by_role("link", name="Modifier : Conjoint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conjoint")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.get_by_label("Téléphone portable").fill("07 45 67 89 10")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Vos modifications sont enregistrées.")

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes enfants").click()
    page.get_by_role("link", name="Lucas DUPONT").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lucas DUPONT")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.get_by_role("link", name="Ajouter une personne autorisée").click()
    page.get_by_label("Nom (obligatoire)", exact=True).fill("LEROY")
    page.get_by_label("Prénom").fill("Anne")
    page.get_by_label("Lien avec l'enfant").fill("Grand-mère")
    page.get_by_label("Téléphone (obligatoire)", exact=True).fill("06 11 22 33 44")
    page.get_by_label("Peut venir chercher l'enfant").check()
    page.get_by_label("À appeler en cas d'urgence").check()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Vos modifications sont enregistrées.")

    page.reload()
    expect(page.get_by_role("cell", name="Anne LEROY", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Grand-mère", exact=True)).to_be_visible()
    page.goto(f"{live_server}/compte/")
    page.reload()
    expect(page.locator("#h-conjoint").locator("..")).to_contain_text("07 45 67 89 10")
    with demo.unit_of_work() as uow:
        conjoint = uow.first(Guardian, role=GuardianRole.SECOND)
        assert conjoint is not None and conjoint.phone_mobile == "07 45 67 89 10"
        person = uow.first(AuthorizedPerson, last_name="LEROY")
        assert person is not None and person.may_pick_up and person.emergency_contact


def test_bad_iban_shows_an_error_summary_linked_to_the_field(demo, live_server: str, page: Page) -> None:
    _login(page, live_server)
    page.goto(f"{live_server}/compte/banque")
    page.get_by_label("IBAN (obligatoire)", exact=True).fill("FR76 3000 6000 0112 3456 7890 188")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Cet IBAN n'est pas valide")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("IBAN (obligatoire)", exact=True)).to_be_focused()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
