"""Every page state has its own title (RGAA 8.6): the pages of the crawl (derived from the URL
map, tests/e2e/page_crawl.py) have titles no other page of the same audience has, and a refused
form's page starts with "Erreur :" (base.html, whatever the form)."""

from __future__ import annotations

import html
import re
from collections import defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from tests.conftest import csrf_token, login
from tests.e2e.page_crawl import LOGINS, ask_for_a_change, candidate_urls, html_pages

TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def title_of(page: str) -> str:
    match = TITLE.search(page)
    assert match, "no title"
    return html.unescape(" ".join(match.group(1).split()))


def test_every_crawled_page_has_a_title_of_its_own(demo: Portal, app: Flask) -> None:
    ask_for_a_change(demo)
    urls = candidate_urls(app, demo)
    for who in LOGINS:
        client = app.test_client()
        pages = html_pages(app, urls, who)
        by_title: dict[str, list[str]] = defaultdict(list)
        assert login(client, *LOGINS[who]).status_code == 302
        for url in pages:
            answer = client.get(url)
            if answer.status_code == 302:  # a public page ended the session: log in again
                assert login(client, *LOGINS[who]).status_code == 302
                answer = client.get(url)
            by_title[title_of(answer.get_data(as_text=True))].append(url)
        shared = {title: urls for title, urls in by_title.items() if len(urls) > 1}
        assert not shared, f"{who}: {shared}"


def _post(client: FlaskClient, path: str, **data: str) -> str:
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **data})
    assert response.status_code in (200, 400, 401, 422), (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data", "title"),
    [
        ("/mon-mot-de-passe", {"current": "", "password": "court", "confirm": "autre"}, "Changer mon mot de passe"),
        ("/messages/nouveau", {"subject": "", "body": ""}, "Nouveau message"),
        ("/compte/conjoint", {"email": "pas-une-adresse", "version": "1"}, "Conjoint"),
    ],
)
def test_a_refused_form_is_titled_erreur(
    parent_client: FlaskClient, path: str, data: dict[str, str], title: str
) -> None:
    normal = title_of(parent_client.get(path).get_data(as_text=True))
    assert normal.startswith(title)
    refused = title_of(_post(parent_client, path, **data))
    assert refused == f"Erreur : {normal}"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/connexion", {"email": "parent@example.org", "password": "pas-le-bon"}),
        ("/mot-de-passe-oublie", {"email": ""}),
    ],
)
def test_public_forms_refused_are_titled_erreur(demo: Portal, client: FlaskClient, path: str, data: dict[str, str]) -> None:
    normal = title_of(client.get(path).get_data(as_text=True))
    assert title_of(_post(client, path, **data)) == f"Erreur : {normal}"
