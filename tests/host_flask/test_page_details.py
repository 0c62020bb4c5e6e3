"""The details of issue 17 outside the calendar: one current page in the menu, errors that take
the focus without JavaScript, the forgotten-password form's own French message, every problem of
the change-password form at once, message sizes in French words."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import ChangeRequest, Child
from host_flask.i18n import human_size
from tests.conftest import csrf_token
from tests.e2e.page_crawl import ask_for_a_change

CURRENT = re.compile(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>')


def current_entries(page: str) -> list[str]:
    nav = page[page.index('aria-label="Menu principal"') : page.index("</nav>")]
    return [label for _url, label in CURRENT.findall(nav)]


def _child_id(portal: Portal) -> int:
    with portal.unit_of_work() as uow:
        child = uow.first(Child, first_name="Emma")
        assert child is not None and child.id is not None
        return child.id


def test_a_childs_record_marks_mes_enfants_only(parent_client: FlaskClient, demo: Portal) -> None:
    assert current_entries(parent_client.get("/compte/").get_data(as_text=True)) == ["Mon compte"]
    page = parent_client.get(f"/compte/enfants/{_child_id(demo)}/").get_data(as_text=True)
    assert current_entries(page) == ["Mes enfants"]
    page = parent_client.get("/compte/conjoint").get_data(as_text=True)
    assert current_entries(page) == ["Mon compte"]


def test_a_change_request_marks_demandes_only(agent_client: FlaskClient, demo: Portal) -> None:
    ask_for_a_change(demo)
    with demo.unit_of_work() as uow:
        request = uow.first(ChangeRequest)
        assert request is not None
    page = agent_client.get(f"/gestion/familles/demandes/{request.id}").get_data(as_text=True)
    assert current_entries(page) == ["Demandes de modification"]
    page = agent_client.get("/gestion/familles/").get_data(as_text=True)
    assert current_entries(page) == ["Familles"]


def test_a_login_error_takes_the_focus_without_javascript(demo: Portal, client: FlaskClient) -> None:
    token = csrf_token(client)
    page = client.post(
        "/connexion", data={"email": "parent@example.org", "password": "non", "csrf_token": token}
    ).get_data(as_text=True)
    assert re.search(r'<p class="error-summary" role="alert" id="login-error" tabindex="-1" autofocus>', page)


def test_forgotten_password_has_novalidate_and_says_why_in_french(demo: Portal, client: FlaskClient) -> None:
    page = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    assert '<form method="post" class="card narrow" novalidate>' in page
    response = client.post(
        "/mot-de-passe-oublie", data={"email": "pas une adresse", "csrf_token": csrf_token(client, "/mot-de-passe-oublie")}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Adresse e-mail : indiquez l&#39;adresse de votre compte" in page
    assert 'autofocus' in page and 'aria-invalid="true"' in page


def test_the_change_password_form_reports_every_problem_at_once(parent_client: FlaskClient) -> None:
    response = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "pas-le-bon",
            "password": "court",
            "confirm": "autre",
            "csrf_token": csrf_token(parent_client, "/mon-mot-de-passe"),
        },
    )
    assert response.status_code == 422
    summary = response.get_data(as_text=True).split('class="error-summary"')[1].split("</div>")[0]
    assert "Mot de passe actuel incorrect." in summary
    assert "Les deux mots de passe ne sont pas identiques." in summary
    assert '<a href="#f-password">' in summary  # the weak new password too


@pytest.mark.parametrize(
    ("size", "shown"),
    [(1, "1 octet"), (65, "65 octets"), (1024, "1 Ko"), (1229, "1,2 Ko"), (1_572_864, "1,5 Mo")],
)
def test_sizes_are_french_words(size: int, shown: str) -> None:
    assert human_size(size).replace("\N{NO-BREAK SPACE}", " ") == shown
