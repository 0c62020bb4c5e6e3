"""Who may open what, for every route of every enabled plugin (docs/security.md points 9 and 10).

The routes are read from the application itself, so a plugin's new page is checked the day it
is added: a parent never reaches an agents' page, an agent never acts as a family, and the list
of pages open without a login stays short and known.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from host_flask.access import AGENTS, FAMILIES, PUBLIC, audience_of
from tests.conftest import agent_of_service, csrf_token

# Pages anyone may open, and why; anything else needs a login (deny by default). The JSON API
# (blueprint ``api``) takes no cookie at all: its tokens are tested in tests/api.
EXPECTED_PUBLIC = {
    "auth.login": "se connecter",
    "auth.forgotten_password": "demander un nouveau mot de passe",
    "auth.reset_password": "le lien reçu par e-mail",
    "auth.second_factor": "le code TOTP des agents, juste après le mot de passe",
    "auth.activate": "activer un compte invité : le code de l'e-mail ou du courrier",
    "auth.confirm_email": "confirmer une nouvelle adresse de connexion : le code envoyé à cette adresse",
    "pages.legal": "mentions légales",
    "pages.accessibility": "déclaration d'accessibilité",
    "pages.privacy": "notice de protection des données",
    "health.health": "état du portail pour les répartiteurs de charge : aucune donnée personnelle",
    "calendar.ical": "abonnement iCalendar : un jeton secret et révocable dans l'adresse",
    "billing.provider_return": "retour du navigateur depuis PayFiP : aucun secret, l'état"
    " est relu auprès de PayFiP (une réponse TIPI n'est qu'une déclaration à vérifier)",
    "billing.provider_notification": "notification serveur à serveur de PayFiP, vérifiée"
    " auprès de PayFiP",
    "billing.without_account": "payer une facture sans compte : référence et montant ou n° de"
    " famille, essais limités par adresse et par référence",
    "billing.without_account_invoice": "la facture trouvée (montant, échéance, numéro), pour ce"
    " seul navigateur",
    "billing.without_account_return": "retour depuis PayFiP d'un paiement sans compte : l'état"
    " est relu auprès de PayFiP",
    "billing.without_account_receipt": "le reçu d'un paiement sans compte, pour le seul"
    " navigateur qui a payé",
}


def _rules(app: Flask, audience: str) -> list[tuple[str, str, set[str]]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if rule.endpoint.startswith("api."):
            continue
        if audience_of(app.view_functions[rule.endpoint]) == audience:
            url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule)
            found.append((rule.endpoint, url, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return found


def test_the_public_pages_are_the_expected_few(app: Flask) -> None:
    public = {endpoint for endpoint, _url, _methods in _rules(app, PUBLIC)}
    assert public <= set(EXPECTED_PUBLIC), f"new public pages: {public - set(EXPECTED_PUBLIC)}"
    assert {"auth.login", "pages.legal", "pages.privacy"} <= public


def _all_refused(app: Flask, client: FlaskClient, audience: str) -> int:
    """Open every page of ``audience`` with ``client`` (forms with a valid CSRF token, so that
    only the audience check can refuse them); return how many were tried."""
    return _each_refused(client, _rules(app, audience))


def _each_refused(client: FlaskClient, rules: list[tuple[str, str, set[str]]]) -> int:
    """Every page and action of ``rules`` answers 404 to ``client``; returns how many were tried."""
    token = csrf_token(client, "/")  # the logout form of every page carries one
    tried = 0
    for endpoint, url, methods in rules:
        for method in methods:
            data = {"csrf_token": token} if method != "GET" else None
            answer = client.open(url, method=method, data=data)
            assert answer.status_code == 404, (endpoint, method, answer.status_code)
            tried += 1
    return tried


def test_every_agents_page_lives_under_the_one_agents_root(app: Flask) -> None:
    """``/gestion/…`` (docs/plugins.md, "The skeleton of a plugin"); the agents' old addresses
    only answer a redirect there (tests/host_flask/test_agents_url_root.py)."""
    rules = _rules(app, AGENTS)
    moved = [url for endpoint, url, _methods in rules if app.view_functions[endpoint].__module__ == "host_flask.moved"]
    elsewhere = [
        (endpoint, url)
        for endpoint, url, _methods in rules
        if not url.startswith("/gestion/") and app.view_functions[endpoint].__module__ != "host_flask.moved"
    ]
    assert elsewhere == [], f"agents' pages outside /gestion/: {elsewhere}"
    assert len(rules) - len(moved) >= 10, "the bundled plugins have agents' pages"
    assert {url.split("/")[1] for url in moved} == {"agenda", "mairie"}


def test_parents_never_reach_agents_pages(app: Flask, parent_client: FlaskClient) -> None:
    assert _all_refused(app, parent_client, AGENTS) >= 6, "the bundled plugins have agents' pages"


def test_agents_never_act_as_a_family(app: Flask, agent_client: FlaskClient) -> None:
    assert _all_refused(app, agent_client, FAMILIES) >= 6, "the bundled plugins have family pages"


def test_agents_without_the_account_role_never_reach_the_account_pages(
    app: Flask, agent_client: FlaskClient
) -> None:
    """"Comptes" (``/gestion/comptes``) is for administrators and the agents of
    ``[portal] account_services``: the demo's ENFANCE agent gets 404 on every page and action
    (tests/host_flask/test_account_pages.py checks nothing changed and nothing was audited)."""
    rules = [rule for rule in _rules(app, AGENTS) if rule[0].startswith("accounts.")]
    assert len(rules) >= 9
    _each_refused(agent_client, rules)


def test_agents_without_the_acting_role_never_act_for_a_family(app: Flask, agent_client: FlaskClient) -> None:
    """"Agir pour la famille" is for administrators and the agents of ``[portal]
    acting_services`` (none here): the demo's ENFANCE agent gets 404 on its start and end
    actions, and — with a session forged or left over to act for a household — still on every
    family page (tests/host_flask/test_acting.py checks the allowed side)."""
    rules = [rule for rule in _rules(app, AGENTS) if rule[0].startswith("acting.")]
    assert {endpoint for endpoint, _url, _methods in rules} == {"acting.start", "acting.end"}
    with agent_client.session_transaction() as session:
        session["acting_family"] = 1
    token = csrf_token(agent_client, "/")
    for endpoint, url, methods in rules:
        for method in methods:
            answer = agent_client.open(url, method=method, data={"csrf_token": token})
            assert answer.status_code == 404, (endpoint, method, answer.status_code)
    assert _all_refused(app, agent_client, FAMILIES) >= 6


def test_agents_without_a_mailbox_never_reach_the_group_message_pages(app: Flask, demo: Portal) -> None:
    """"Message groupé" (``/gestion/messages/groupe…``) is for agents who read a service's
    mailbox: an agent of a service without one gets 404 on every page and action
    (tests/plugins/inbox/test_group_message.py checks nothing was sent)."""
    client = agent_of_service(demo, app, "SPORT")
    rules = [rule for rule in _rules(app, AGENTS) if rule[0].startswith("inbox_agents.group")]
    assert {endpoint for endpoint, _url, _methods in rules} == {
        "inbox_agents.group", "inbox_agents.group_preview", "inbox_agents.group_send"
    }
    token = csrf_token(client, "/")
    for endpoint, url, methods in rules:
        for method in methods:
            data = {"csrf_token": token, "kind": "ecole", "school": "École Jules Ferry", "service": "SPORT",
                    "subject": "x", "body": "y", "expected": "4"} if method != "GET" else None
            answer = client.open(url, method=method, data=data)
            assert answer.status_code == 404, (endpoint, method, answer.status_code)


ACTIVITY_DAY_PAGES = ("liste", "pointage", "presences", "justificatifs")
"""The calendar's agents' pages about one activity's children (issue 15): "Liste nominative",
"Pointage", the attended days' export and the queue of "Justificatif"."""


def test_agents_of_another_service_never_reach_the_named_lists_pointage_and_justificatifs(
    app: Flask, demo: Portal
) -> None:
    """The demo's activities are ENFANCE's: an agent of SCOLAIRE gets 404 on every page and
    action (tests/plugins/calendar/test_named_list.py checks nothing changed)."""
    client = agent_of_service(demo, app, "SCOLAIRE")
    rules = [
        rule for rule in _rules(app, AGENTS)
        if rule[0].startswith("calendar_agents.") and rule[1].split("/")[3].split(".")[0] in ACTIVITY_DAY_PAGES
    ]
    assert len(rules) >= 6
    _each_refused(client, rules)
