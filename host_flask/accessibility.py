"""The facts of the accessibility statement (/accessibilite), following the RGAA model statement:
when it was established, how the portal was checked (the project's own automated checks, with the
tools' versions and the screen sizes), what is not accessible, derogations and exempt content.

The checks named here are the repository's tests (docs/accessibility.md): a release that changes
them updates these facts; tests/host_flask/test_accessibility_statement.py keeps the axe-core
version equal to the one the tests run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from attrs import frozen
from flask_babel import lazy_gettext as _l


@frozen
class Check:
    """One check of the portal (``what``) and its result, both lazily translated texts."""

    what: Any
    result: Any


ESTABLISHED = date(2026, 12, 3)
"""The day the statement was established (and its checks last run)."""

RGAA_VERSION = "4.1"
AXE_CORE_VERSION = "4.12.1"
"""The axe-core shipped by the pinned axe-playwright-python, which the browser tests run."""
CHROMIUM_VERSION = "156"
"""The major version of Debian's Chromium the browser tests ran in."""

CHECKS = (
    Check(
        _l(
            "Analyse automatique axe-core (critères WCAG 2.1 niveaux A et AA) de chaque page des "
            "parents et des agents, dont la liste est tirée des adresses du portail, avec les "
            "données de démonstration et avec des valeurs longues (noms, titres, montants), à "
            "320 px et à 1280 px de large"
        ),
        _l("aucune erreur détectée"),
    ),
    Check(
        _l(
            "Affichage à 320 px de large des mêmes pages : pas de défilement horizontal, chaque "
            "tableau lisible en entier (présenté en cartes « libellé : valeur » sur un petit écran)"
        ),
        _l("aucun contenu masqué"),
    ),
    Check(
        _l(
            "Parcours au clavier seul, avec et sans JavaScript : connexion, Agenda (réserver, "
            "déclarer une absence), message à la mairie, consultation d'une facture, Mon compte"
        ),
        _l("parcours réalisés sans souris"),
    ),
    Check(
        _l(
            "Titre de page unique pour chaque page et chaque état (« Erreur : … » après un "
            "formulaire refusé) ; un seul élément du menu signalé comme page en cours"
        ),
        _l("conforme"),
    ),
)

NOT_ACCESSIBLE = (
    _l(
        "Aucun audit complet des critères du RGAA n'a encore été réalisé par un auditeur : les "
        "vérifications automatiques ne couvrent qu'une partie des critères, et la restitution "
        "par les lecteurs d'écran n'a pas été vérifiée sur toutes les pages."
    ),
)
"""Known non-compliances."""

DEROGATIONS: tuple[Any, ...] = ()
"""Derogations for a disproportionate burden (none claimed)."""

EXEMPT = (
    _l(
        "Les pièces jointes envoyées par les familles ou par les agents dans la Boîte de "
        "réception (documents PDF, photos) : contenus de tiers, qui ne sont pas produits par "
        "le portail."
    ),
)
"""Content outside the obligation (third parties' content)."""

TECHNOLOGIES = ("HTML5", "CSS", _l("JavaScript (facultatif : chaque page fonctionne sans)"))
SCREEN_SIZES = (_l("320 × 640 px (téléphone)"), _l("1280 × 800 px (ordinateur)"))


def statement_context() -> dict[str, Any]:
    """What pages/accessibility.html shows."""
    return {
        "established": ESTABLISHED,
        "rgaa_version": RGAA_VERSION,
        "checks": CHECKS,
        "not_accessible": NOT_ACCESSIBLE,
        "derogations": DEROGATIONS,
        "exempt": EXEMPT,
        "technologies": TECHNOLOGIES,
        "screen_sizes": SCREEN_SIZES,
        "chromium_version": CHROMIUM_VERSION,
        "axe_version": AXE_CORE_VERSION,
    }
