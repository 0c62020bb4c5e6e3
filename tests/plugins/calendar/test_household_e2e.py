"""Keyboard-only journey at 320 px in Debian's Chromium (issue 17, acceptance): the DUPONT parent
books Wednesday for both children in one action and declares a medical absence for both for two
days in one action; the database agrees; the home panel and the household's iCalendar feed
(parsed with ``icalendar``) show "absent" for those days, one event per child, activity and day.
The month grid keeps the focus across months (PageDown, arrows)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from famille_core import Portal
from famille_core.entities import Absence, Activity, Child, Enrollment, Reservation
from tests.e2e_fixtures import assert_fits_and_passes_axe
from tests.plugins.calendar.test_agenda_e2e import login_by_keyboard, tab_to

pytestmark = pytest.mark.e2e

PHONE = {"width": 320, "height": 640}
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A 320 px wide page, in French."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()


def _ids(demo: Portal) -> dict[str, int]:
    """Emma's and Lucas's ids, the activities' ids; both children enrolled in the Wednesday
    activity (the demo enrols them in the school-day activities only)."""
    with demo.unit_of_work() as uow:
        children = {c.first_name: c for c in uow.find(Child, last_name="DUPONT")}
        activities = {a.code: a.id for a in uow.find(Activity)}
        for child in children.values():
            school = uow.first(Enrollment, child_id=child.id, activity_id=activities["CANTINE"])
            assert school is not None and child.id is not None
            uow.add(
                Enrollment(
                    child_id=child.id,
                    activity_id=activities["MERCREDI"],
                    family_id=school.family_id,
                    start_date=school.start_date,
                    end_date=school.end_date,
                )
            )
        uow.commit()
        return {"emma": children["Emma"].id or 0, "lucas": children["Lucas"].id or 0, **activities}


_fits = assert_fits_and_passes_axe


def type_date(page: Page, selector: str, day: date) -> None:
    """Tab to a date field and type ``day`` in it, in the order of the browser's date fields
    (month first in Debian's headless Chromium, whatever the page's locale; day first otherwise)."""
    for typed in (f"{day:%m%d%Y}", f"{day:%d%m%Y}"):
        tab_to(page, selector)
        page.keyboard.type(typed)
        if page.evaluate("(s) => document.querySelector(s).value", selector) == day.isoformat():
            return
        page.evaluate("(s) => { document.querySelector(s).value = ''; }", selector)
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{selector} did not take {day}")


def _follow(page: Page, selector: str) -> None:
    tab_to(page, selector, limit=150)
    page.keyboard.press("Enter")


def test_parent_books_and_declares_absence_for_both_children_by_keyboard_at_320px(
    demo: Portal, live_server: str, phone: Page
) -> None:
    ids = _ids(demo)
    page = phone
    login_by_keyboard(page, live_server)

    _follow(page, "a[href='/agenda/']")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    _fits(page)
    _follow(page, "a[href='/agenda/foyer']")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda du foyer")
    _follow(page, "#periode-suivante")
    expect(page.locator("#titre-periode")).to_have_text("Semaine du lundi 23 novembre 2026")
    _fits(page)

    # Wednesday for both children, one action.
    for child in ("emma", "lucas"):
        tab_to(page, f"#c-{ids[child]}-{ids['MERCREDI']}-{WEDNESDAY.isoformat()}", limit=150)
        page.keyboard.press("Space")
    tab_to(page, "#reserver-foyer", limit=150)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Réservation : 2 case(s) réservée(s) ou demandée(s) sur 2.")
    results = page.locator(".outcomes li")
    expect(results).to_have_text(
        [
            "Mercredi 25 novembre 2026 — Emma, Accueil de loisirs du mercredi : demande en cours",
            "Mercredi 25 novembre 2026 — Lucas, Accueil de loisirs du mercredi : demande en cours",
        ]
    )
    expect(page).to_have_title(f"Agenda du foyer — semaine du lundi 23 novembre 2026 — résultat — {demo.settings.collectivity.name}")

    # A medical absence for both, Monday and Tuesday (Lucas's Monday and Tuesday were booked).
    for child in ("emma", "lucas"):
        tab_to(page, f"#f-enfant-{ids[child]}", limit=150)
        page.keyboard.press("Space")
    type_date(page, "#f-start", MONDAY)
    type_date(page, "#f-end", TUESDAY)
    tab_to(page, "#f-reason")
    page.keyboard.type("RAISON")
    assert page.evaluate("document.activeElement.value") == "MEDICAL"
    tab_to(page, "#confirmer-absence-foyer")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Absence : 4 jour(s) enregistré(s) sur 4.")
    expect(page.locator(".outcomes li")).to_have_text(
        [
            "Lundi 23 novembre 2026 — Emma, Cantine, Accueil du soir : absent (RAISON MEDICALE)",
            "Lundi 23 novembre 2026 — Lucas, Cantine, Accueil du matin, Accueil du soir : absent (RAISON MEDICALE)",
            "Mardi 24 novembre 2026 — Emma, Cantine, Accueil du soir : absent (RAISON MEDICALE)",
            "Mardi 24 novembre 2026 — Lucas, Cantine, Accueil du matin, Accueil du soir : absent (RAISON MEDICALE)",
        ]
    )
    expect(page.get_by_text("Lucas, Cantine : absent (RAISON MEDICALE)").first).to_be_visible()
    _fits(page)

    # The database agrees.
    with demo.unit_of_work() as uow:
        wednesday = uow.find(Reservation, activity_id=ids["MERCREDI"], day=WEDNESDAY)
        assert sorted((r.child_id, str(r.state)) for r in wednesday) == sorted(
            [(ids["emma"], "requested"), (ids["lucas"], "requested")]
        )
        absent = Counter(
            (a.child_id, a.day) for a in uow.find(Absence, reason_code="MEDICAL") if a.day in (MONDAY, TUESDAY)
        )
        assert absent == {
            (ids["emma"], MONDAY): 2, (ids["emma"], TUESDAY): 2, (ids["lucas"], MONDAY): 3, (ids["lucas"], TUESDAY): 3
        }

    # The household's iCalendar feed, created by keyboard: "absent" on those days, one event per
    # child, activity and day, named after the child.
    _follow(page, "#abonnement button[value='create']")
    url = page.locator("#lien-abonnement").input_value()
    feed = Calendar.from_ical(page.request.get(url).body())
    assert str(feed.get("x-wr-calname")) == "Portail Famille — foyer DUPONT"
    events = [(e.decoded("dtstart"), str(e.get("summary"))) for e in feed.walk("VEVENT")]
    on_those_days = sorted(s for d, s in events if d in (MONDAY, TUESDAY))
    assert on_those_days == sorted(
        f"{name} — {activity} : absent (RAISON MEDICALE)"
        for _day in (MONDAY, TUESDAY)
        for name, activities in (("Emma", ("Cantine", "Accueil du soir")), ("Lucas", ("Cantine", "Accueil du matin", "Accueil du soir")))
        for activity in activities
    )
    assert len(events) == len(set(events))
    assert (WEDNESDAY, "Emma — Accueil de loisirs du mercredi : demande en cours") in events

    # The home panel: the same days, "absent".
    _follow(page, "a[href='/']")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    monday = page.locator(".upcoming > li", has_text="Lundi 23 novembre 2026")
    expect(monday.locator("li")).to_have_text(
        [
            "Emma, Cantine : absent (RAISON MEDICALE)",
            "Emma, Accueil du soir : absent (RAISON MEDICALE)",
            "Lucas, Cantine : absent (RAISON MEDICALE)",
            "Lucas, Accueil du matin : absent (RAISON MEDICALE)",
            "Lucas, Accueil du soir : absent (RAISON MEDICALE)",
        ]
    )
    tuesday = page.locator(".upcoming > li", has_text="Mardi 24 novembre 2026")
    expect(tuesday).not_to_contain_text("réservé")
    expect(tuesday).to_contain_text("Lucas, Cantine : absent (RAISON MEDICALE)")


def test_month_grid_keeps_the_focus_across_months(demo: Portal, live_server: str, phone: Page) -> None:
    page = phone
    page.set_viewport_size({"width": 1280, "height": 900})
    login_by_keyboard(page, live_server)
    page.goto(f"{live_server}/agenda/")
    expect(page.locator("#aide-clavier")).to_be_visible()  # keys promised only with the script
    tab_to(page, "a.day")
    assert page.evaluate("document.activeElement.dataset.day") == "2026-11-16"
    page.keyboard.press("PageDown")
    expect(page.locator("#titre-mois")).to_contain_text("Décembre 2026")
    expect(page.locator("a.day[data-day='2026-12-16']")).to_be_focused()
    page.keyboard.press("PageUp")
    expect(page.locator("a.day[data-day='2026-11-16']")).to_be_focused()
    # Arrows cross months: from Monday 30 November, down a week is Monday 7 December.
    for _ in range(2):
        page.keyboard.press("ArrowDown")
    expect(page.locator("a.day[data-day='2026-11-30']")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#titre-mois")).to_contain_text("Décembre 2026")
    expect(page.locator("a.day[data-day='2026-12-07']")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("a.day[data-day='2026-11-30']")).to_be_focused()  # in December's grid
    _fits(page)
    page.goto(f"{live_server}/agenda/foyer?vue=mois")
    _fits(page)
    # Without JavaScript the keys are not promised.
    context = page.context.browser.new_context(java_script_enabled=False)  # type: ignore[union-attr]
    try:
        plain = context.new_page()
        plain.goto(f"{live_server}/connexion")
        plain.get_by_label("Adresse e-mail").fill("parent@example.org")
        plain.get_by_label("Mot de passe").fill("parent-demo-password")
        plain.get_by_role("button", name="Se connecter").click()
        plain.goto(f"{live_server}/agenda/")
        expect(plain.locator("#aide-grille")).to_be_visible()
        expect(plain.locator("#aide-clavier")).to_be_hidden()
    finally:
        context.close()
