"""Every parent and agent page of the demo (derived from the URL map: tests/e2e/page_crawl.py) in
Debian's Chromium at 320 px and 1280 px, with the demo data and with long values (names, titles,
amounts): nothing scrolls sideways, every table box fits or is a focusable labelled scroll box,
every table cell is in sight, and axe-core finds no WCAG 2.1 A/AA violation.

One browser, one tab per audience, each page loaded once: measured at 1280 px, then the same page
resized to 320 px (media queries apply on resize, as when a phone turns)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from famille_core import Portal
from famille_core.entities import (
    AuthorizedPerson,
    Child,
    Family,
    Guardian,
    Invoice,
    InvoiceLine,
    Message,
    Thread,
    User,
)
from tests.e2e.page_crawl import LOGINS, MEASURE, ask_for_a_change, candidate_urls, html_pages
from tests.e2e_fixtures import axe_violations, format_violations

pytestmark = pytest.mark.e2e

WIDTHS = (1280, 320)
REPORT = os.environ.get("FAMILLE_CRAWL_REPORT")
"""A file the crawl appends each page's widths to (page and table boxes), when set."""
LONG_WORD = "Anticonstitutionnellement"


def lengthen(portal: Portal) -> None:
    """Long values everywhere a person types or an ERP sends them: names, titles, amounts."""
    with portal.unit_of_work() as uow:
        for family in uow.find(Family):
            family.name = f"{family.name}-DE LA FONTAINE-SAINT-ÉTIENNE-{LONG_WORD.upper()}"
        for guardian in uow.find(Guardian):
            guardian.first_name = f"{guardian.first_name}-Bernadette-Véronique"
            guardian.last_name = f"{guardian.last_name}-DE LA FONTAINE-SAINT-ÉTIENNE"
        for child in uow.find(Child):
            child.first_name = f"{child.first_name}-Maximilien-Alexandre"
            child.last_name = f"{child.last_name}-DE LA FONTAINE-SAINT-ÉTIENNE"
        for person in uow.find(AuthorizedPerson):
            person.first_name = f"{person.first_name}-Marguerite-Eugénie"
            person.last_name = f"{person.last_name}-{LONG_WORD.upper()}"
            person.relationship = f"Arrière-grand-mère maternelle ({LONG_WORD})"
        for user in uow.find(User):
            user.display_name = f"{user.display_name}-Bernadette-Véronique DE LA FONTAINE-SAINT-ÉTIENNE"
        for thread in uow.find(Thread):
            thread.subject = f"{thread.subject} : {LONG_WORD}{LONG_WORD} et renseignements complémentaires"
        for message in uow.find(Message):
            message.subject = f"{message.subject} : {LONG_WORD}{LONG_WORD} et renseignements complémentaires"
            message.size = 987_654_321
        for invoice in uow.find(Invoice):
            invoice.label = f"{invoice.label} — {LONG_WORD} périscolaire et extrascolaire"
            invoice.total += Decimal("123456")
            invoice.due_date += timedelta(days=0)
        for line in uow.find(InvoiceLine):
            line.label = f"{line.label} — {LONG_WORD} du mercredi après-midi"
            line.quantity = Decimal("1234")
            line.unit_price += Decimal("100")
            line.amount += Decimal("123456")
        uow.commit()


def log_in(page: Page, base: str, who: str) -> None:
    email, password = LOGINS[who]
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accueil", timeout=30_000)


def crawl(
    app: Flask, portal: Portal, browser: Browser, base: str, axe_widths: tuple[int, ...]
) -> list[str]:
    """Visit every page of each audience at each width (axe at ``axe_widths``); the problems
    found, one line each."""
    urls = candidate_urls(app, portal)
    problems: list[str] = []
    for who in LOGINS:
        pages = html_pages(app, urls, who)
        assert len(pages) > 5, (who, pages)
        context = browser.new_context(viewport={"width": WIDTHS[0], "height": 800})
        page = context.new_page()
        log_in(page, base, who)
        for url in pages:
            page.set_viewport_size({"width": WIDTHS[0], "height": 800})
            page.goto(f"{base}{url}")
            if "/connexion?next=" in page.url:  # a public page ended the session
                log_in(page, base, who)
                page.goto(f"{base}{url}")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 640 if width < 400 else 800})
                measured = page.evaluate(MEASURE)
                if REPORT:
                    with open(REPORT, "a", encoding="utf-8") as report:
                        print(who, url, width, measured["scrollWidth"], measured["clientWidth"], measured["boxes"], file=report)
                problems += [f"{who} {url} @{width}: {p}" for p in measured["problems"]]
                violations = axe_violations(page) if width in axe_widths else []
                if violations:
                    problems.append(f"{who} {url} @{width}: axe {format_violations(violations)}")
        context.close()
    return problems


@pytest.mark.timeout(900)
def test_every_page_fits_and_passes_axe_with_the_demo_data(
    demo: Portal, app: Flask, live_server: str, browser: Browser
) -> None:
    ask_for_a_change(demo)
    problems = crawl(app, demo, browser, live_server, axe_widths=WIDTHS)
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(900)
def test_every_page_fits_and_passes_axe_with_long_values(
    demo: Portal, app: Flask, live_server: str, browser: Browser
) -> None:
    ask_for_a_change(demo)
    lengthen(demo)
    problems = crawl(app, demo, browser, live_server, axe_widths=(320,))
    assert not problems, "\n".join(problems)
