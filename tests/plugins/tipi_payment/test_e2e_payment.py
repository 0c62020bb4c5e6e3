"""The parent's journey in Debian's Chromium: "Factures" → an invoice → "Payer en ligne" → the
PayFiP simulator (a separate server, over real HTTP) → back on the portal, the invoice is
"payée" and the receipt is in the inbox (the real inbox plugin). Pages are checked with axe-core."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from famille_core import Portal
from famille_core.entities import InvoiceStatus, PaymentState
from famille_plugins.tipi_payment.services.simulator import PayfipSimulator
from tests.e2e_fixtures import axe_violations, format_violations, serving
from tests.plugins.tipi_payment.conftest import (
    DUPONT_OPEN,
    invoice_by_number,
    transactions,
)

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ports() -> tuple[int, int]:
    """(portal, simulator) ports, known before the portal is configured."""
    return _free_port(), _free_port()


@pytest.fixture
def settings_data(settings_data: dict[str, Any], ports: tuple[int, int]) -> dict[str, Any]:
    portal_port, simulator_port = ports
    return {
        **settings_data,
        "plugins": {
            "tipi_payment": {
                "base_url": f"http://127.0.0.1:{simulator_port}",
                "public_url": f"http://127.0.0.1:{portal_port}",
            }
        },
    }


@pytest.fixture
def extra_plugins() -> list[object]:
    """No test plugin: the receipt goes to the real inbox plugin through ``notify_family``."""
    return []


@pytest.fixture
def servers(demo: Portal, app: Flask, ports: tuple[int, int]) -> Iterator[tuple[str, str]]:
    """The portal and the PayFiP simulator, each on its own port (notifications over HTTP)."""
    portal_port, simulator_port = ports
    with serving(app, portal_port) as portal_url, serving(PayfipSimulator(), simulator_port) as sim:
        yield portal_url, sim


def _log_in(page: Page, portal_url: str) -> None:
    page.goto(f"{portal_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("parent@example.org")
    page.get_by_label("Mot de passe").fill("parent-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")


def _assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


def test_parent_pays_invoice_through_simulator_and_sees_it_paid_with_receipt(
    demo: Portal, servers: tuple[str, str], page: Page
) -> None:
    portal_url, simulator_url = servers
    _log_in(page, portal_url)

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Factures"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Factures")
    row = page.get_by_role("row").filter(has_text=DUPONT_OPEN)
    expect(row).to_contain_text("84,95")
    expect(row).to_contain_text("à régler")
    _assert_accessible(page)

    page.get_by_role("link", name=f"Facture n° {DUPONT_OPEN}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture n° {DUPONT_OPEN}")
    expect(page.locator("main")).to_contain_text("Identifiant collectivité")
    _assert_accessible(page)

    page.get_by_role("button", name="Payer en ligne").click()
    expect(page).to_have_url(re.compile(re.escape(f"{simulator_url}/tpa/paiementws.web?idop=")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement de votre facture")
    expect(page.locator("main")).to_contain_text("84,95 €")
    page.get_by_role("button", name="Payer", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement accepté")
    page.get_by_role("link", name="Retourner sur le site de la collectivité").click()

    expect(page).to_have_url(re.compile(re.escape(f"{portal_url}/factures/paiements/")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement accepté")
    expect(page.get_by_role("status").filter(has_text="payée")).to_be_visible()
    _assert_accessible(page)

    page.get_by_role("link", name="Retour aux factures").click()
    expect(page.get_by_role("row").filter(has_text=DUPONT_OPEN)).to_contain_text("payée")

    invoice = invoice_by_number(demo, DUPONT_OPEN)
    assert invoice.status is InvoiceStatus.PAID and invoice.balance == 0
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Boîte de réception"
    ).click()
    page.get_by_role("link", name=f"Paiement reçu — facture n° {DUPONT_OPEN}").click()
    expect(page.locator("main")).to_contain_text(
        f"Nous avons bien reçu votre paiement de 84,95 € pour la facture n° {DUPONT_OPEN}"
    )
    expect(page.locator("main")).to_contain_text("Numéro d'autorisation")
    _assert_accessible(page)


def test_invoice_pages_work_by_keyboard_and_at_320px(
    demo: Portal, servers: tuple[str, str], page: Page
) -> None:
    portal_url, simulator_url = servers
    page.set_viewport_size({"width": 320, "height": 640})
    _log_in(page, portal_url)
    page.goto(f"{portal_url}/factures/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    link = page.get_by_role("link", name=f"Facture n° {DUPONT_OPEN}")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture n° {DUPONT_OPEN}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for _ in range(40):  # Tab until "Payer en ligne" has the focus: reachable by keyboard
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Payer en ligne":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Payer en ligne"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(f"{simulator_url}/tpa/paiementws.web?idop=")


def test_back_button_from_payfip_shows_the_payment_in_flight_and_resumes_it(
    demo: Portal, servers: tuple[str, str], page: Page
) -> None:
    """Issue 12, finding 1: back from PayFiP, the invoice offers no second payment; « Reprendre »
    continues the same one, which is credited once."""
    portal_url, simulator_url = servers
    _log_in(page, portal_url)
    invoice = invoice_by_number(demo, DUPONT_OPEN)
    page.goto(f"{portal_url}/factures/{invoice.id}")
    page.get_by_role("button", name="Payer en ligne").click()
    expect(page).to_have_url(re.compile(re.escape(f"{simulator_url}/tpa/paiementws.web?idop=")))
    idop_page = page.url
    page.go_back()
    page.reload()  # the page as it is now, not the browser's cached copy
    expect(page.get_by_role("heading", name="Paiement en cours")).to_be_visible()
    expect(page.get_by_role("button", name="Payer en ligne")).to_have_count(0)
    expect(page.get_by_role("button", name="Vérifier maintenant")).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("button", name="Vérifier maintenant").click()
    expect(page.get_by_role("status")).to_contain_text("pas encore connu")

    page.get_by_role("link", name=re.compile("Reprendre ce paiement")).click()
    assert page.url == idop_page
    page.get_by_role("button", name="Payer", exact=True).click()
    page.get_by_role("link", name="Retourner sur le site de la collectivité").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement accepté")
    assert [t.state for t in transactions(demo)] == [PaymentState.PAID]
    assert invoice_by_number(demo, DUPONT_OPEN).balance == 0


def test_agents_payment_pages_are_accessible(
    demo: Portal, servers: tuple[str, str], page: Page
) -> None:
    portal_url, _simulator_url = servers
    _one_of_each(demo)
    page.goto(f"{portal_url}/connexion")
    page.get_by_label("Adresse e-mail").fill("agent@example.org")
    page.get_by_label("Mot de passe").fill("agent-demo-password")
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Trop-perçus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trop-perçus")
    expect(page.get_by_role("button", name=re.compile("Marquer remboursé"))).to_be_visible()
    _assert_accessible(page)
    menu.get_by_role("link", name="Paiements à vérifier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiements à vérifier")
    expect(page.get_by_role("button", name=re.compile("Confirmer"))).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("button", name=re.compile("Rejeter")).click()
    expect(page.get_by_role("status")).to_contain_text("Le paiement est rejeté")


def _one_of_each(portal: Portal) -> None:
    """An overpayment to refund (DUPONT) and a legacy claim to check (MARTIN), as stored."""
    from decimal import Decimal

    from famille_core.entities import Overpayment, PaymentTransaction

    now = portal.clock.now()
    with portal.unit_of_work() as uow:
        dupont = invoice_by_number(portal, DUPONT_OPEN)
        martin = invoice_by_number(portal, "99996885")
        paid = PaymentTransaction(
            invoice_id=dupont.id or 0, family_id=dupont.family_id, provider="payfip",
            amount=Decimal("84.95"), state=PaymentState.PAID, created_at=now, updated_at=now,
            provider_data={"numauto": "123456"},
        )  # fmt: skip
        claim = PaymentTransaction(
            invoice_id=martin.id or 0, family_id=martin.family_id, provider="tipi",
            amount=martin.balance, created_at=now, updated_at=now,
            provider_data={"review": {"numauto": "654321", "dattrans": "16112026"}},
        )  # fmt: skip
        uow.add(paid)
        uow.add(claim)
        uow.flush()
        surplus = Overpayment(
            invoice_id=dupont.id or 0, family_id=dupont.family_id,
            transaction_id=paid.id or 0, amount=Decimal("84.95"), created_at=now,
        )  # fmt: skip
        uow.add(surplus)
        uow.commit()
