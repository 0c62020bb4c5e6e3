"""The password reset journey in a real browser; the code never reaches a URL the server sees
(finding 19, docs/security.md point 37)."""

from __future__ import annotations

import logging
import re

import pytest
from playwright.sync_api import Page, expect

from famille_core import Portal
from tests.e2e_fixtures import axe_violations, format_violations
from tests.mail_helpers import sent_emails, text_of

pytestmark = pytest.mark.e2e


def test_reset_from_the_e_mailed_link_keeps_the_code_out_of_the_access_log(
    demo: Portal, live_server: str, page: Page, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")  # the development server's access log
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server}/mot-de-passe-oublie")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_text("Si un compte utilise cette adresse")).to_be_visible()

    body = text_of(sent_emails(demo)[-1])
    match = re.search(r"https?://[^/\s]+(/reinitialiser-mot-de-passe#code=([\w-]+))", body)
    assert match, body
    link, code = match.groups()

    page.goto(f"{live_server}{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    expect(page.locator("#f-token")).to_be_hidden()  # the page's script filled it
    assert "#" not in page.url  # and took the code out of the address bar
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.get_by_label("Nouveau mot de passe").fill("une phrase de passe toute neuve")
    page.get_by_label("Confirmer le mot de passe").fill("une phrase de passe toute neuve")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Votre mot de passe a été changé")).to_be_visible()

    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_label("Mot de passe").fill("une phrase de passe toute neuve")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")

    access_log = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/reinitialiser-mot-de-passe" in line for line in access_log), access_log
    assert not [line for line in access_log if code in line]
    assert not [url for url in requested if code in url]


def test_without_javascript_the_code_is_pasted(demo: Portal, live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/mot-de-passe-oublie")
        page.get_by_label("Adresse e-mail").fill("parent@example.org")
        page.get_by_role("button", name="Recevoir le lien").click()
        body = text_of(sent_emails(demo)[-1])
        code = re.search(r"copiez celui-ci :\n([\w-]+)", body).group(1)  # type: ignore[union-attr]
        page.goto(f"{live_server}/reinitialiser-mot-de-passe#code={code}")
        page.get_by_label("Code reçu par e-mail").fill(code)
        page.get_by_label("Nouveau mot de passe").fill("une phrase de passe toute neuve")
        page.get_by_label("Confirmer le mot de passe").fill("une phrase de passe toute neuve")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Votre mot de passe a été changé")).to_be_visible()
    finally:
        context.close()
