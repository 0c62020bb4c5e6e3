"""The recent-login check inside the profile service (docs/security.md points 7 and 41): bank
details and authorised persons change only for a person who typed their password recently,
whatever calls the service — the plugin's own forms (which also check it first), another
plugin's page, a script. Each test fails when ``require_recent_login`` is removed from
``famille_plugins.profile.services.changes``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, request
from flask.testing import FlaskClient

from famille_core import Portal, hookimpl
from famille_core.entities import Actor, AuthorizedPerson, BankDetails, ChangeRequest, User
from famille_core.errors import ReauthenticationRequired
from famille_plugins.profile.services import changes
from host_flask.access import current_actor, families_only
from host_flask.toolkit import get_portal, request_uow
from tests.conftest import csrf_token
from tests.mail_helpers import sent_emails
from tests.plugins.profile.conftest import child_id

NEW_IBAN = "DE89370400440532013000"
BANK = {"holder": "Marie DUPONT", "iban": NEW_IBAN, "bic": "COBADEFFXXX",
        "mandate_reference": "RUM-2", "mandate_date": "2026-09-01"}
PERSON = {"last_name": "LEROY", "first_name": "Anne", "phone": "0611223344", "may_pick_up": "on"}

undecorated = Blueprint("undecorated_bank", __name__)


@undecorated.post("/test/banque-sans-confirmation")
@families_only
def bank_without_decorator() -> str:
    """A page written without ``recent_login_required`` (another plugin, a future API)."""
    uow = request_uow()
    version = str(uow.first(BankDetails).version)  # type: ignore[union-attr]
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    outcome = changes.update_section(get_portal(), uow, current_actor(), "banque", form, version)
    uow.commit()
    return outcome.state


class UndecoratedPages:
    @hookimpl
    def register_blueprints(self, portal: Portal) -> list[Any]:
        return [undecorated]


@pytest.fixture
def extra_plugins() -> list[object]:
    return [UndecoratedPages()]


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    # Bank changes are applied at once here, so a missing check would show in the stored record.
    return {**settings_data, "plugins": {"profile": {"validated_sections": []}}}


def _parent(portal: Portal, minutes_ago: int | None) -> Actor:
    with portal.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        typed = None if minutes_ago is None else portal.clock.now() - timedelta(minutes=minutes_ago)
        return Actor.for_user(user, authenticated_at=typed)


def _state(portal: Portal) -> tuple[Any, ...]:
    with portal.unit_of_work() as uow:
        bank = uow.first(BankDetails)
        assert bank is not None
        return bank.iban, uow.count(AuthorizedPerson), uow.count(ChangeRequest)


def _add_person(portal: Portal, actor: Actor) -> int:
    with portal.unit_of_work() as uow:
        outcome = changes.update_section(portal, uow, actor, "autorisations", PERSON, "0",
                                          child_id=child_id(portal, "Lucas"))
        uow.commit()
        return outcome.record.id  # type: ignore[no-any-return]


def _bank(portal: Portal, actor: Actor) -> None:
    with portal.unit_of_work() as uow:
        version = uow.first(BankDetails).version  # type: ignore[union-attr]
        changes.update_section(portal, uow, actor, "banque", BANK, str(version))
        uow.commit()


def _remove(portal: Portal, actor: Actor, person_id: int) -> None:
    with portal.unit_of_work() as uow:
        version = uow.get(AuthorizedPerson, person_id).version  # type: ignore[union-attr]
        changes.remove_authorized_person(portal, uow, actor, child_id(portal, "Lucas"), person_id, str(version))
        uow.commit()


CHANGES: dict[str, Callable[[Portal, Actor, int], object]] = {
    "bank-details": lambda portal, actor, _person: _bank(portal, actor),
    "add-person": lambda portal, actor, _person: _add_person(portal, actor),
    "remove-person": lambda portal, actor, person: _remove(portal, actor, person),
}


@pytest.mark.parametrize("minutes_ago", [16, 60 * 24, None], ids=["16-minutes", "a-day", "never"])
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_stale_login_changes_nothing_through_the_service(
    demo: Portal, change: Callable[[Portal, Actor, int], object], minutes_ago: int | None
) -> None:
    person = _add_person(demo, _parent(demo, 0))
    mails = len(sent_emails(demo))  # the notice of that addition
    before = _state(demo)
    with pytest.raises(ReauthenticationRequired):
        change(demo, _parent(demo, minutes_ago), person)
    assert _state(demo) == before
    assert len(sent_emails(demo)) == mails  # no security notice for a refused change
    # The same change by a person who just typed their password goes through (the test can fail).
    change(demo, _parent(demo, 1), person)
    assert _state(demo) != before


def test_a_page_without_the_decorator_is_still_refused(parent_client: FlaskClient, demo: Portal) -> None:
    token = csrf_token(parent_client, "/")
    demo.clock.advance(timedelta(minutes=16))
    assert parent_client.get("/").status_code == 200  # still logged in, the password typed 16 minutes ago
    before = _state(demo)
    response = parent_client.post("/test/banque-sans-confirmation", data={**BANK, "csrf_token": token})
    assert response.status_code == 302 and "/connexion/confirmer" in response.location
    assert _state(demo) == before


def test_the_plugin_form_refuses_a_stale_login_too(parent_client: FlaskClient, demo: Portal) -> None:
    """The form's own check (``recent_login_required``) answers before the service's."""
    token = csrf_token(parent_client, "/")
    demo.clock.advance(timedelta(minutes=8))
    assert parent_client.get("/").status_code == 200
    demo.clock.advance(timedelta(minutes=8))
    before = _state(demo)
    response = parent_client.post("/compte/banque", data={**BANK, "version": "1", "csrf_token": token})
    assert response.status_code == 302 and "/connexion/confirmer" in response.location
    assert _state(demo) == before
