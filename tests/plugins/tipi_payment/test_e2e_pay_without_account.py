"""« Payer une facture sans compte » in Debian's Chromium at 320 px (issue 18, acceptance):
logged out, from the login page, the reference and the amount of a DUPONT demo invoice, paid on
the simulator (a separate server, over real HTTP), back on the portal "payée"; then the parent
logs in and sees the invoice paid and the receipt. Every page is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from tests.plugins.tipi_payment.conftest import DUPONT_OPEN, invoice_by_number, transactions
from tests.plugins.tipi_payment.test_e2e_payment import (  # noqa: F401  (fixtures)
    _assert_accessible,
    _log_in,
    extra_plugins,
    ports,
    servers,
    settings_data,
)

pytestmark = pytest.mark.e2e


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_payer_without_account_pays_at_320px_then_parent_sees_it_paid(
    demo: Portal,
    servers: tuple[str, str],  # noqa: F811  (the imported fixture)
    page: Page,
) -> None:
    portal_url, simulator_url = servers
    page.set_viewport_size({"width": 320, "height": 640})
    reference = invoice_by_number(demo, DUPONT_OPEN).reference

    page.goto(f"{portal_url}/connexion")
    page.get_by_role("link", name="Payer une facture sans compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payer une facture sans compte")
    _fits(page)
    _assert_accessible(page)

    # A wrong amount first: one French answer, accessible, nothing looked up is shown.
    page.get_by_label("Référence de la facture").fill(reference)
    page.get_by_label("Montant de la facture ou numéro de famille").fill("84,94")
    page.get_by_label("Votre adresse e-mail").fill("mamie@example.org")
    page.get_by_role("button", name="Rechercher la facture").click()
    expect(page.get_by_role("alert")).to_contain_text("Aucune facture à régler ne correspond")
    _fits(page)
    _assert_accessible(page)

    page.get_by_label("Montant de la facture ou numéro de famille").fill("84,95")
    page.get_by_role("button", name="Rechercher la facture").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture n° {DUPONT_OPEN} à régler")
    expect(page.locator("main")).to_contain_text("84,95 €")
    expect(page.locator("main")).not_to_contain_text("DUPONT")
    _fits(page)
    _assert_accessible(page)

    page.get_by_role("button", name="Payer en ligne").click()
    expect(page).to_have_url(re.compile(re.escape(f"{simulator_url}/tpa/paiementws.web?idop=")))
    page.get_by_role("button", name="Payer", exact=True).click()
    page.get_by_role("link", name="Retourner sur le site de la collectivité").click()

    expect(page).to_have_url(re.compile(re.escape(f"{portal_url}/factures/sans-compte/paiement/")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement accepté")
    expect(page.get_by_role("status").filter(has_text="payée")).to_be_visible()
    _fits(page)
    _assert_accessible(page)
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert invoice_by_number(demo, DUPONT_OPEN).status is InvoiceStatus.PAID

    _log_in(page, portal_url)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page.goto(f"{portal_url}/factures/{invoice.id}")
    expect(page.locator("main")).to_contain_text("payée")
    page.goto(f"{portal_url}/messages/")  # at 320 px the menu is folded: its address
    page.get_by_role("link", name=f"Paiement reçu — facture n° {DUPONT_OPEN}").click()
    expect(page.locator("main")).to_contain_text(
        f"Nous avons bien reçu votre paiement de 84,95 € pour la facture n° {DUPONT_OPEN}"
    )
    _assert_accessible(page)
