"""Mon compte and Mes enfants in Debian's Chromium: the demo parent edits the Conjoint's phone
and adds an authorised person, reloads and sees both; the pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from famille_core.entities import AuditRecord, AuthorizedPerson, BankDetails, Guardian, GuardianRole
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


def test_agent_finds_a_child_reads_its_health_record_and_decides_a_request(demo, live_server: str, page: Page) -> None:
    _login(page, live_server)
    page.goto(f"{live_server}/compte/banque")
    page.get_by_label("Titulaire du compte").fill("Marie DUPONT")
    page.get_by_label("IBAN (obligatoire)", exact=True).fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("en attente de validation")
    expect(page.locator("#h-banque")).to_contain_text("en attente de validation")
    page.get_by_role("button", name="Se déconnecter").click()

    page.get_by_label("Adresse e-mail").fill("agent@example.org")
    page.get_by_label("Mot de passe").fill("agent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("link", name="Familles").click()
    page.get_by_label("Nom de famille, numéro de famille ou prénom").fill("Emma")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Emma DUPONT")).to_be_visible()
    assert axe_violations(page) == [], format_violations(axe_violations(page))
    page.get_by_role("link", name="Emma DUPONT").click()
    expect(page.get_by_role("heading", name="Données sanitaires")).to_be_visible()
    expect(page.get_by_text("Arachide", exact=True)).to_be_visible()
    assert axe_violations(page) == [], format_violations(axe_violations(page))

    nav.get_by_role("link", name="Demandes de modification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes de modification")
    assert axe_violations(page) == [], format_violations(axe_violations(page))
    page.locator("tr", has_text="Coordonnées bancaires").get_by_role("link", name="Examiner").click()
    expect(page.get_by_text("DE89 **** **** **** **30 00")).to_be_visible()
    expect(page.get_by_text("FR76 **** **** **** **** ***0 189")).to_have_count(0)
    assert axe_violations(page) == [], format_violations(axe_violations(page))
    page.get_by_label("Accepter et appliquer").check()
    page.get_by_role("button", name="Valider la décision").click()
    expect(page.get_by_role("status")).to_contain_text("acceptée")
    with demo.unit_of_work() as uow:
        bank = uow.first(BankDetails)
        assert bank is not None and bank.iban == "DE89370400440532013000"
        assert uow.count(AuditRecord, record_type="health_record", action="read") == 1


def test_conjoint_form_by_keyboard_only_and_no_horizontal_scroll_at_320px(demo, live_server: str, page: Page) -> None:
    _login(page, live_server)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server}/compte/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Modifier : Conjoint":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conjoint")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Téléphone portable").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Numéro de téléphone invalide")
    with demo.unit_of_work() as uow:
        conjoint = uow.first(Guardian, role=GuardianRole.SECOND)
        assert conjoint is not None and conjoint.phone_mobile == "06 98 76 54 32"
    page.goto(f"{live_server}/compte/enfants/")
    page.get_by_role("link", name="Lucas DUPONT").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lucas DUPONT")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
