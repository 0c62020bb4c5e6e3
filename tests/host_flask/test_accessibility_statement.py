"""The accessibility statement follows the RGAA model statement: its sections in order, the date,
the results of the project's own checks with the tools' versions and screen sizes, a contact
through the inbox and the Défenseur des droits recourse with its postal address."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from host_flask.accessibility import AXE_CORE_VERSION

SECTIONS = (
    "État de conformité",
    "Résultats des tests",
    "Contenus non accessibles",
    "Non-conformités",
    "Dérogations pour charge disproportionnée",
    "Contenus non soumis à l'obligation d'accessibilité",
    "Établissement de cette déclaration d'accessibilité",
    "Environnement de test",
    "Retour d'information et contact",
    "Voies de recours",
)


def test_the_statement_has_the_rgaa_model_sections_in_order(client: FlaskClient) -> None:
    page = client.get("/accessibilite").get_data(as_text=True)
    headings = [re.sub(r"&#39;", "'", h) for h in re.findall(r"<h[23]>([^<]+)</h[23]>", page)]
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)
    assert "Cette déclaration a été établie le jeudi 3 décembre 2026." in page
    assert f"axe-core {AXE_CORE_VERSION}" in page and "Chromium 156" in page
    assert "320 × 640 px" in page and "1280 × 800 px" in page
    assert "aucune erreur détectée" in page


def test_contact_is_a_new_message_and_recourse_the_defenseur_des_droits(client: FlaskClient) -> None:
    page = client.get("/accessibilite").get_data(as_text=True)
    assert '<a href="/messages/nouveau">Écrire un message à la mairie</a>' in page
    assert "https://formulaire.defenseurdesdroits.fr/" in page
    assert "Libre réponse 71120<br>75342 Paris CEDEX 07" in page


def test_the_statement_names_the_axe_core_the_tests_run() -> None:
    import axe_playwright_python

    script = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text(encoding="utf-8")
    assert f"axe v{AXE_CORE_VERSION}" in script[:300]
