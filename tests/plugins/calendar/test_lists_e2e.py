"""Issue 15, acceptance (c) and (d), in Debian's Chromium at 320 px, axe on every new page:
an agent prints the canteen's named list of the day and marks attendance; a parent attaches a
certificate to a medical absence and an agent accepts it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from famille_core import Portal
from famille_core.entities import (
    Absence,
    Activity,
    Attendance,
    Child,
    DocumentState,
    Message,
    Reservation,
    ReservationState,
    SupportingDocument,
)
from tests.e2e_fixtures import assert_fits_and_passes_axe
from tests.plugins.inbox.conftest import pdf_bytes

pytestmark = pytest.mark.e2e

PHONE = {"width": 320, "height": 640}
TODAY = date(2026, 11, 16)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A 320 px wide page, in French, that accepts downloads."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR", accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


_fits = assert_fits_and_passes_axe


def _login(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/connexion")
    page.fill("#email", email)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")


def _book_today(demo: Portal) -> dict[str, int]:
    with demo.unit_of_work() as uow:
        children = {c.first_name: c for c in uow.find(Child, last_name="DUPONT")}
        cantine = uow.first(Activity, code="CANTINE")
        assert cantine is not None and cantine.id is not None
        family_id = uow.first(Reservation, child_id=children["Lucas"].id).family_id  # type: ignore[union-attr]
        for child in children.values():
            uow.add(
                Reservation(
                    child_id=child.id or 0, activity_id=cantine.id, family_id=family_id, day=TODAY,
                    state=ReservationState.ACCEPTED, created_at=demo.clock.now(),
                )
            )
        uow.commit()
        return {"emma": children["Emma"].id or 0, "lucas": children["Lucas"].id or 0, "cantine": cantine.id}


def test_an_agent_prints_the_canteen_list_and_marks_attendance(demo: Portal, live_server: str, phone: Page) -> None:
    ids = _book_today(demo)
    page = phone
    _login(page, live_server, "agent@example.org", "agent-demo-password")
    page.goto(f"{live_server}/gestion/agenda/effectifs?jour={TODAY.isoformat()}")
    page.get_by_role("link", name="Liste nominative").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Liste nominative")
    page.select_option("#activite", str(ids["cantine"]))
    page.get_by_role("button", name="Afficher").click()
    table = page.locator("table.named-list")
    expect(table).to_contain_text("DUPONT Emma")
    expect(table).to_contain_text("Alimentaires : Arachide")
    expect(table).to_contain_text("DUPONT Lucas")
    _fits(page)
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(table).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Imprimer la liste (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="Pointage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pointage")
    _fits(page)
    emma = page.get_by_role("group", name="Emma DUPONT")
    emma.get_by_label("Présent").check()
    page.get_by_role("group", name="Lucas DUPONT").get_by_label("Absent").check()
    page.get_by_role("button", name="Enregistrer le pointage").click()
    expect(page.locator(".flash-success")).to_contain_text("Pointage enregistré")
    expect(page.get_by_role("heading", name="Absents sans prévenir")).to_be_visible()
    _fits(page)
    with demo.unit_of_work() as uow:
        marks = {a.child_id: a.present for a in uow.find(Attendance, day=TODAY)}
    assert marks == {ids["emma"]: True, ids["lucas"]: False}


def test_a_parent_attaches_a_certificate_and_an_agent_accepts_it(
    demo: Portal, live_server: str, phone: Page, browser: Browser, tmp_path: Path
) -> None:
    certificate = tmp_path / "certificat.pdf"
    certificate.write_bytes(pdf_bytes())
    page = phone
    _login(page, live_server, "parent@example.org", "parent-demo-password")
    page.goto(f"{live_server}/agenda/")
    page.get_by_role("link", name="Justificatifs d'absence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Justificatifs d'absence")
    _fits(page)
    item = page.locator("li", has_text="RAISON MEDICALE").first
    item.locator("input[type=file]").set_input_files(str(certificate))
    item.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.locator(".flash-success")).to_contain_text("Justificatif envoyé")
    expect(page.locator("li", has_text="RAISON MEDICALE").first).to_contain_text("en attente de vérification")
    _fits(page)

    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        agent = context.new_page()
        _login(agent, live_server, "agent@example.org", "agent-demo-password")
        agent.goto(f"{live_server}/gestion/agenda/effectifs")
        agent.get_by_role("link", name="Justificatifs").click()
        expect(agent.get_by_role("heading", level=1)).to_have_text("Justificatifs à vérifier")
        expect(agent.locator("table")).to_contain_text("certificat.pdf")
        _fits(agent)
        agent.get_by_role("button", name="Accepter").first.click()
        expect(agent.locator(".flash-success")).to_contain_text("Justificatif accepté")
        expect(agent.get_by_text("Aucun justificatif en attente.")).to_be_visible()
        _fits(agent)
    finally:
        context.close()
    with demo.unit_of_work() as uow:
        document = uow.first(SupportingDocument)
        assert document is not None and document.state is DocumentState.ACCEPTED
        absence = uow.get(Absence, document.absence_id)
        assert absence is not None and absence.reason_code == "MEDICAL" and absence.billable is False
        assert uow.first(Message, family_id=absence.family_id, subject="Justificatif accepté") is not None
    page.goto(f"{live_server}/agenda/justificatifs/")
    expect(page.locator("li", has_text="RAISON MEDICALE").first).to_contain_text("accepté")
