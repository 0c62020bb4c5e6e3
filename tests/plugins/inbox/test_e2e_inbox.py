"""The acceptance journey in Debian's Chromium: the demo parent sends the guide's "Demande de
renseignements" (keyboard only), the ENFANCE agent reads and answers it, the parent logs in
again, is told "Vous avez 1 nouveau message", opens it, and it is then read. Every page of the
journey is checked with axe (WCAG 2.1 A/AA). Without JavaScript, the "Marquer comme lu" button
does what the page's script does."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from famille_core import Portal, notify_family
from famille_core.entities import Direction, Family, Message
from tests.e2e_fixtures import axe_violations, format_violations
from tests.plugins.inbox.conftest import GUIDE_BODY, GUIDE_SUBJECT

pytestmark = pytest.mark.e2e


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Connexion")


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {format_violations(violations)}"


def test_parent_asks_agent_answers_parent_reads(demo: Portal, live_server: str, page: Page) -> None:
    # 1. The parent writes, keyboard only.
    log_in(page, live_server, "parent@example.org", "parent-demo-password")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Boîte de réception").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    assert_accessible(page)
    page.get_by_role("link", name="Nouveau message").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau message")
    assert_accessible(page)
    page.get_by_label("Titre").focus()
    page.keyboard.type(GUIDE_SUBJECT)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-body"
    page.keyboard.type(GUIDE_BODY)
    page.keyboard.press("Tab")  # the optional attachments
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Envoyer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Votre message a été envoyé au service ENFANCE.")
    expect(page.locator(".message-body")).to_have_text(GUIDE_BODY)
    assert_accessible(page)
    log_out(page)

    # 2. The agent finds it in the ENFANCE mailbox and answers.
    log_in(page, live_server, "agent@example.org", "agent-demo-password")
    expect(page.get_by_text("1 conversation à traiter")).to_be_visible()
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte du service ENFANCE")
    row = page.get_by_role("row").filter(has_text=GUIDE_SUBJECT)
    expect(row).to_contain_text("DUPONT")
    expect(row).to_contain_text("1 non lu")
    assert_accessible(page)
    row.get_by_role("link", name=GUIDE_SUBJECT).click()
    expect(page.locator(".message-body")).to_have_text(GUIDE_BODY)
    page.get_by_label("Votre réponse").fill(
        "Bonjour Madame DUPONT,\n\nVous pouvez inscrire votre fils en ligne, rubrique Agenda.\n\nCordialement."
    )
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status")).to_contain_text("Votre réponse a été envoyée.")
    expect(page.get_by_text("Magnus ENFANCE")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Marquer comme traitée").click()
    expect(page.get_by_role("status")).to_contain_text("La conversation est marquée comme traitée.")
    log_out(page)

    # 3. The parent logs in again and is told.
    log_in(page, live_server, "parent@example.org", "parent-demo-password")
    expect(page.get_by_role("link", name="Vous avez 1 nouveau message")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Vous avez 1 nouveau message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    unread = page.locator("tr.unread")
    expect(unread).to_have_count(1)
    expect(unread).to_contain_text("Magnus ENFANCE")
    expect(unread).to_contain_text("Non lu")
    # Retried until the stylesheet has loaded: under load, the rows can be there before portal.css.
    expect(unread).to_have_css("font-weight", "700")
    unread.get_by_role("link", name=f"Re : {GUIDE_SUBJECT}").click()
    expect(page.get_by_text("Vous pouvez inscrire votre fils en ligne, rubrique Agenda.")).to_be_visible()
    # Shown to a person, the page marks it read itself (a GET alone changes nothing).
    expect(page.get_by_role("button", name="Marquer comme non lu")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Retour à la boîte de réception").click()
    expect(page.locator("tr.unread")).to_have_count(0)
    expect(page.get_by_text("Non lu")).to_have_count(0)
    with demo.unit_of_work() as uow:
        (answer,) = uow.find(Message, direction=Direction.FROM_COLLECTIVITY)
        assert answer.read_at is not None
        assert answer.author_label == "Magnus ENFANCE"


def test_inbox_fits_320_pixels(demo: Portal, live_server: str, page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, live_server, "parent@example.org", "parent-demo-password")
    for path in ("/messages/", "/messages/nouveau"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_without_javascript_the_button_marks_read_and_unread(demo: Portal, live_server: str, browser: Browser) -> None:
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None and dupont.id is not None
        message_id = notify_family(demo, uow, dupont.id, "Facture disponible", "Votre facture est en ligne.")
        uow.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "parent@example.org", "parent-demo-password")
        page.goto(f"{live_server}/messages/")
        page.locator("tr.unread").get_by_role("link", name="Facture disponible").click()
        expect(page.get_by_text("Votre facture est en ligne.")).to_be_visible()
        with demo.unit_of_work() as uow:
            assert uow.get(Message, message_id).read_at is None  # type: ignore[union-attr]
        page.get_by_role("button", name="Marquer comme lu").click()
        expect(page.get_by_role("status")).to_contain_text("La conversation est marquée comme lue.")
        with demo.unit_of_work() as uow:
            assert uow.get(Message, message_id).read_at is not None  # type: ignore[union-attr]
        page.get_by_role("button", name="Marquer comme non lu").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
        expect(page.locator("tr.unread")).to_have_count(1)
    finally:
        context.close()
