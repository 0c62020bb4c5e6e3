"""``toolkit.form_action``: one answer for a refused form. A person gets the page's own answer
(the form again with its messages, or a message and a redirect), a machine gets the API's RFC
9457 problem document; either way nothing of the refused request is saved."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, flash, redirect, render_template_string
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue

from famille_core import Conflict, Issue, Portal, ValidationFailed, hookimpl
from famille_core.entities import Family
from host_flask import create_app
from host_flask import toolkit as tk
from tests.conftest import csrf_token

PAGE = "{% for field, messages in errors.items() %}[{{ field }}: {{ messages|join(' / ') }}]{% endfor %}"
NAME_REQUIRED = Issue(code="required", message="Nom : ce champ est obligatoire.", field="name")
TOO_LATE = Issue(code="deadline_passed", message="La date limite est passée.")
SOMEONE_ELSE = "Cette fiche a été modifiée entre-temps : rechargez la page."


def _refuse(mode: str) -> None:
    if mode == "invalid":
        raise ValidationFailed([NAME_REQUIRED, TOO_LATE])
    if mode == "conflict":
        raise Conflict(SOMEONE_ELSE)
    if mode == "lost-at-commit":
        uow = tk.request_uow()

        def commit() -> None:  # the database's answer to a lost race (a deadlock…)
            raise Conflict(SOMEONE_ELSE)

        uow.commit = commit  # type: ignore[method-assign]


class FormPlugin:
    """A plugin with two forms: one shows itself again, one redirects with a message."""

    @hookimpl
    def register_blueprints(self, portal: Portal) -> list[Blueprint]:
        bp = Blueprint("form_test", __name__)

        @bp.post("/essai/formulaire/<mode>")
        @tk.public
        def again(mode: str) -> ResponseReturnValue:
            def refused(refusal: tk.Refusal) -> ResponseReturnValue:
                return render_template_string(PAGE, errors=refusal.errors), refusal.status

            with tk.form_action(refused=refused):
                tk.request_uow().add(Family(family_number="F-ESSAI", name="ESSAI"))
                tk.request_uow().flush()
                _refuse(mode)
            return "enregistré", 201

        @bp.post("/essai/redirection/<mode>")
        @tk.public
        def back(mode: str) -> ResponseReturnValue:
            def refused(refusal: tk.Refusal) -> ResponseReturnValue:
                for message in refusal.messages:
                    flash(message, "error")
                return redirect("/essai/messages", 303)

            with tk.form_action(refused=refused):
                tk.request_uow().add(Family(family_number="F-ESSAI", name="ESSAI"))
                _refuse(mode)
            return redirect("/essai/messages", 303)

        @bp.get("/essai/messages")
        @tk.public
        def messages() -> ResponseReturnValue:
            return render_template_string(
                "{% for m in get_flashed_messages() %}<p>{{ m }}</p>{% endfor %}"
            )

        return [bp]


@pytest.fixture
def extra_plugins() -> list[object]:
    return [FormPlugin()]


@pytest.fixture
def app(portal: Portal) -> Flask:
    return create_app({"TESTING": True}, portal=portal)


def _post(client: FlaskClient, path: str, **headers: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client)}, headers=headers)


def _saved(portal: Portal) -> bool:
    with portal.unit_of_work() as uow:
        return uow.first(Family, family_number="F-ESSAI") is not None


def test_a_form_that_passes_is_committed(client: FlaskClient, portal: Portal) -> None:
    response = _post(client, "/essai/formulaire/ok")
    assert (response.status_code, response.get_data(as_text=True)) == (201, "enregistré")
    assert _saved(portal)


def test_a_refused_form_comes_back_with_its_messages_by_field_and_saves_nothing(
    client: FlaskClient, portal: Portal
) -> None:
    response = _post(client, "/essai/formulaire/invalid")
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert page == "[name: Nom : ce champ est obligatoire.][None: La date limite est passée.]"
    assert "Content-Security-Policy" in response.headers  # an ordinary page of the portal
    assert not _saved(portal)


@pytest.mark.parametrize("mode", ["conflict", "lost-at-commit"])
def test_a_lost_race_is_a_409_with_the_conflicts_message(
    client: FlaskClient, portal: Portal, mode: str
) -> None:
    response = _post(client, f"/essai/formulaire/{mode}")
    assert response.status_code == 409
    assert response.get_data(as_text=True).replace("&#39;", "'") == f"[None: {SOMEONE_ELSE}]"
    assert not _saved(portal)


def test_a_page_may_answer_a_refusal_with_a_message_and_a_redirect(
    client: FlaskClient, portal: Portal
) -> None:
    response = _post(client, "/essai/redirection/conflict")
    assert (response.status_code, response.headers["Location"]) == (303, "/essai/messages")
    shown = client.get("/essai/messages").get_data(as_text=True).replace("&#39;", "'")
    assert shown == f"<p>{SOMEONE_ELSE}</p>"
    assert not _saved(portal)


def test_a_machine_gets_one_problem_document_for_refused_fields(
    client: FlaskClient, portal: Portal
) -> None:
    for path in ("/essai/formulaire/invalid", "/essai/redirection/invalid"):
        response = _post(client, path, Accept="application/json")
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert response.get_json() == {
            "type": "https://portail-famille.example/problemes/validation",
            "title": "Données invalides",
            "status": 422,
            "detail": "Nom : ce champ est obligatoire.; La date limite est passée.",
            "errors": [
                {"field": "name", "code": "required", "message": NAME_REQUIRED.message},
                {"field": None, "code": "deadline_passed", "message": TOO_LATE.message},
            ],
        }
    assert not _saved(portal)


@pytest.mark.parametrize("mode", ["conflict", "lost-at-commit"])
def test_a_machine_gets_the_same_document_for_a_lost_race(
    client: FlaskClient, portal: Portal, mode: str
) -> None:
    response = _post(client, f"/essai/formulaire/{mode}", Accept="application/json")
    assert response.status_code == 409
    assert response.get_json() == {
        "type": "https://portail-famille.example/problemes/conflit",
        "title": "Conflit",
        "status": 409,
        "detail": SOMEONE_ELSE,
        "errors": [{"field": None, "code": "conflict", "message": SOMEONE_ELSE}],
    }
    assert not _saved(portal)
