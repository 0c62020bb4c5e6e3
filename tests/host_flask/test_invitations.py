"""Invitations and activation (issue 15, "Accounts at scale"; docs/security.md points 4, 5, 36).

The demo's PETIT household has an invited account (Claire, claire.petit@example.org) and no
active login: "Comptes" → "Inviter" e-mails her an activation link.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import FixedClock, Portal
from famille_core.entities import Actor, Guardian, GuardianRole, User
from famille_core.services.imports import import_batches
from famille_core.services.invitations import has_address, invite_guardian
from tests.conftest import csrf_token, login
from tests.mail_helpers import sent_emails, text_of

CLAIRE = "claire.petit@example.org"
NEW_PASSWORD = "une phrase de passe toute neuve"


def invite_all(admin_client: FlaskClient) -> str:
    """Press "Inviter" on the agents' page; the answer's text."""
    token = csrf_token(admin_client, "/gestion/comptes/inviter")
    answer = admin_client.post("/gestion/comptes/inviter", data={"csrf_token": token})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def activation_code(portal: Portal, to: str = CLAIRE) -> str:
    """The code of the newest invitation e-mailed to ``to`` (the link carries it after ``#``)."""
    mails = [mail for mail in sent_emails(portal) if mail["To"] == to]
    assert mails, f"no e-mail to {to}"
    match = re.search(r"/activer#code=([\w-]+)", text_of(mails[-1]))
    assert match, text_of(mails[-1])
    return match.group(1)


def activate(client: FlaskClient, code: str, password: str = NEW_PASSWORD, email: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/activer")
    return client.post(
        "/activer",
        data={"csrf_token": token, "token": code, "email": email, "password": password, "confirm": password},
    )


def test_an_activation_link_works_once_and_the_parent_lands_on_accueil_logged_in(
    demo: Portal, app: Flask, admin_client: FlaskClient
) -> None:
    page = invite_all(admin_client)
    assert "1 invitation par e-mail" in page
    code = activation_code(demo)
    assert len(code) >= 43  # 256 bits, URL-safe base64

    parent = app.test_client()
    answer = activate(parent, code)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    home = parent.get("/").get_data(as_text=True)
    assert "<h1>Accueil</h1>" in home and "Claire PETIT" in home

    again = activate(app.test_client(), code, "une autre phrase de passe")
    assert again.status_code == 422
    assert "plus valable" in again.get_data(as_text=True)
    assert login(app.test_client(), CLAIRE, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), CLAIRE, "une autre phrase de passe").status_code == 200


def test_an_activation_link_expires(
    demo: Portal, app: Flask, admin_client: FlaskClient, clock: FixedClock
) -> None:
    invite_all(admin_client)
    code = activation_code(demo)
    clock.advance(timedelta(days=demo.settings.portal.activation_days, seconds=1))
    answer = activate(app.test_client(), code)
    assert answer.status_code == 422 and "plus valable" in answer.get_data(as_text=True)
    assert login(app.test_client(), CLAIRE, NEW_PASSWORD).status_code == 200  # still no password


def test_an_activation_link_is_refused_after_a_password_change(
    demo: Portal, app: Flask, admin_client: FlaskClient
) -> None:
    invite_all(admin_client)
    code = activation_code(demo)
    # Claire chooses her password through "Mot de passe oublié" instead of the invitation.
    client = app.test_client()
    client.post("/mot-de-passe-oublie", data={"email": CLAIRE, "csrf_token": csrf_token(client, "/mot-de-passe-oublie")})
    reset = re.search(r"#code=([\w-]+)", text_of(sent_emails(demo)[-1]))
    assert reset is not None
    token = csrf_token(client, "/reinitialiser-mot-de-passe")
    changed = client.post(
        "/reinitialiser-mot-de-passe",
        data={"csrf_token": token, "token": reset.group(1), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert login(app.test_client(), CLAIRE, NEW_PASSWORD).status_code == 302  # the account is active

    answer = activate(app.test_client(), code, "encore une autre phrase")
    assert answer.status_code == 422 and "plus valable" in answer.get_data(as_text=True)


def test_a_new_invitation_ends_the_older_link(demo: Portal, app: Flask, admin_client: FlaskClient) -> None:
    invite_all(admin_client)
    first = activation_code(demo)
    invite_all(admin_client)  # a reminder: Claire's account is still only invited
    second = activation_code(demo)
    assert first != second
    assert activate(app.test_client(), first).status_code == 422
    assert activate(app.test_client(), second).status_code == 302


def _strip(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


def test_invitations_never_reveal_whether_an_address_exists(demo: Portal, app: Flask) -> None:
    """The forgotten-password form answers alike for an invited, an active and an unknown
    address; a wrong code gets the one refusal; a letter's activation with an address another
    account uses answers like one with a free address (only that mailbox is told)."""
    answers = []
    for email in (CLAIRE, "parent@example.org", "personne@example.org"):
        client = app.test_client()
        token = csrf_token(client, "/mot-de-passe-oublie")
        answer = client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token}, follow_redirects=True)
        answers.append((answer.status_code, _strip(answer.get_data(as_text=True))))
    assert answers[0] == answers[1] == answers[2]

    codes = ("AAAAA-BBBBB-CCCCC-DDDDD", "x" * 43)
    wrong = [(code, activate(app.test_client(), code)) for code in codes]
    assert {answer.status_code for _code, answer in wrong} == {422}
    assert len({_strip(answer.get_data(as_text=True)).replace(code, "") for code, answer in wrong}) == 1

    answers = []
    for taken, address, household in (
        (True, "parent@example.org", CLAIRE),
        (False, "libre@example.org", "martin@example.org"),
    ):
        code = _letter_invitation(demo, f"Sans{taken}", household)
        client = app.test_client()
        answer = activate(client, code, email=address)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        home = client.get("/").get_data(as_text=True)
        flashes = re.search(r'<div class="flashes".*?</div>', home, re.S)
        assert flashes is not None
        answers.append((answer.headers["Location"], flashes.group(0)))
    assert answers[0] == answers[1]
    to_parent = [text_of(m) for m in sent_emails(demo) if m["To"] == "parent@example.org"]
    assert "un compte l'utilise déjà" in to_parent[-1]
    to_free = [text_of(m) for m in sent_emails(demo) if m["To"] == "libre@example.org"]
    assert "/confirmer-adresse#code=" in to_free[-1]


def _letter_invitation(portal: Portal, first_name: str, household_of: str = CLAIRE) -> str:
    """Add a second guardian without e-mail to the household of ``household_of``'s guardian
    and invite them: the letter's code."""
    with portal.unit_of_work() as uow:
        claire = uow.first(Guardian, email=household_of)
        assert claire is not None
        guardian = Guardian(family_id=claire.family_id, role=GuardianRole.SECOND, last_name="PETIT", first_name=first_name)
        uow.add(guardian)
        uow.flush()
        invitation = invite_guardian(portal, uow, Actor.system(), guardian)
        uow.commit()
    assert invitation.by_letter
    return invitation.code


def test_a_letter_code_typed_by_hand_then_the_address_confirmed_from_its_mailbox(
    demo: Portal, app: Flask
) -> None:
    code = _letter_invitation(demo, "Louis")
    assert re.fullmatch(r"([A-Z2-9]{5}-){3}[A-Z2-9]{5}", code)
    client = app.test_client()
    missing = activate(client, code)
    assert missing.status_code == 422 and "avec laquelle vous vous connecterez" in missing.get_data(as_text=True)
    typed = code.lower().replace("-", " ")  # as a person may type it
    assert activate(client, typed, email="louis.petit@example.org").status_code == 302
    assert "<h1>Accueil</h1>" in client.get("/").get_data(as_text=True)

    mail = [m for m in sent_emails(demo) if m["To"] == "louis.petit@example.org"][-1]
    confirm = re.search(r"/confirmer-adresse#code=([\w-]+)", text_of(mail))
    assert confirm is not None
    assert login(app.test_client(), "louis.petit@example.org", NEW_PASSWORD).status_code == 200  # not yet
    other = app.test_client()
    token = csrf_token(other, "/confirmer-adresse")
    assert other.post("/confirmer-adresse", data={"csrf_token": token, "token": confirm.group(1)}).status_code == 302
    assert login(app.test_client(), "louis.petit@example.org", NEW_PASSWORD).status_code == 302


def test_the_letters_pdf_holds_one_page_per_household(demo: Portal, admin_client: FlaskClient) -> None:
    _letter_invitation(demo, "Louis")
    token = csrf_token(admin_client, "/gestion/comptes/inviter")
    answer = admin_client.post("/gestion/comptes/courriers", data={"csrf_token": token})
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(answer.data)).pages)
    assert "Code d'activation de Louis PETIT" in text and "/activer" in text


def test_activation_codes_are_attempt_limited(demo: Portal, app: Flask) -> None:
    client = app.test_client()
    statuses = [activate(client, f"AAAAA-BBBBB-CCCCC-DDDD{i}").status_code for i in range(7)]
    assert statuses[:5] == [422] * 5 and statuses[-1] == 429


def test_an_invited_account_cannot_log_in_and_is_not_an_active_login(demo: Portal, app: Flask) -> None:
    with demo.unit_of_work() as uow:
        claire = uow.first(User, email=CLAIRE)
        assert claire is not None and claire.is_invited and claire.invited_at is not None
    assert login(app.test_client(), CLAIRE, "").status_code == 200


@pytest.fixture
def settings_data(settings_data: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    invite = getattr(request, "param", False)
    return {**settings_data, "portal": {**settings_data["portal"], "invite_imported_guardians": invite}}


@pytest.mark.parametrize("settings_data", [True, False], indirect=True, ids=["invite", "later"])
def test_guardians_an_import_creates_are_invited_when_the_town_asks(portal: Portal) -> None:
    row = {
        "external_id": "ERP-9", "family_number": "9", "name": "NOUVEAU",
        "responsable": {"last_name": "NOUVEAU", "first_name": "Ana", "email": "Ana.Nouveau@example.org"},
        "conjoint": {"last_name": "NOUVEAU", "first_name": "Bo"},
    }
    report = import_batches(portal, "families", [(1, row)])
    assert report.counts["created"] == 1
    with portal.unit_of_work() as uow:
        users = uow.find(User, order_by=("id",))
    if not portal.settings.portal.invite_imported_guardians:
        assert users == [] and sent_emails(portal) == []
        return
    assert [(u.display_name, u.is_invited, has_address(u)) for u in users] == [
        ("Ana NOUVEAU", True, True),
        ("Bo NOUVEAU", True, False),  # a letter, printed from "Comptes" → "Inviter"
    ]
    assert users[0].email == "ana.nouveau@example.org"
    assert activation_code(portal, "ana.nouveau@example.org")
    import_batches(portal, "families", [(1, row)])  # importing again invites nobody twice
    with portal.unit_of_work() as uow:
        assert uow.count(User) == 2
    assert len(sent_emails(portal)) == 1
