"""Forgotten and changed passwords (docs/security.md points 2, 4, 5, 6)."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from tests.conftest import csrf_token, login
from tests.mail_helpers import sent_mail_files


def _request_reset(client: FlaskClient, email: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/mot-de-passe-oublie")
    return client.post(
        "/mot-de-passe-oublie", data={"email": email, "csrf_token": token}, follow_redirects=True
    )


def _mails(portal: Portal) -> list[Path]:
    return sent_mail_files(portal)


def _reset_link(portal: Portal) -> str:
    """The link of the newest reset e-mail: a path, then the code after ``#``."""
    mail = message_from_bytes(_mails(portal)[-1].read_bytes())
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"http://127\.0\.0\.1:5000(/reinitialiser-mot-de-passe#code=\S+)", body)
    assert match, body
    return match.group(1)


def _reset(client: FlaskClient, link: str, password: str):  # type: ignore[no-untyped-def]
    """What the page does: open the link (the browser keeps the fragment to itself), then post
    the code the page's script took from the fragment, with the new password."""
    path, _, fragment = link.partition("#")
    token = csrf_token(client, link)
    return client.post(
        path,
        data={
            "token": fragment.removeprefix("code="),
            "password": password,
            "confirm": password,
            "csrf_token": token,
        },
    )


def test_same_answer_for_known_and_unknown_addresses(demo: Portal, app: Flask) -> None:
    known = _request_reset(app.test_client(), "parent@example.org")
    unknown = _request_reset(app.test_client(), "inconnu@example.org")
    strip = lambda page: re.sub(r'name="csrf_token" value="[^"]+"', "", page)  # noqa: E731
    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    assert "Si un compte utilise cette adresse" in known.get_data(as_text=True)
    assert len(_mails(demo)) == 1  # only the real account gets an e-mail
    mail = message_from_bytes(_mails(demo)[0].read_bytes())
    assert mail["To"] == "parent@example.org"


def test_reset_link_works_once_and_ends_other_sessions(
    demo: Portal, app: Flask, parent_client: FlaskClient
) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    path = _reset_link(demo)
    browser = app.test_client()
    response = _reset(browser, path, "une nouvelle phrase de passe")
    assert response.status_code == 302
    # The old session (a stolen cookie, say) is dead.
    assert parent_client.get("/").status_code == 302
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 200
    assert (
        login(app.test_client(), "parent@example.org", "une nouvelle phrase de passe").status_code
        == 302
    )
    again = _reset(app.test_client(), path, "encore une autre phrase")
    assert again.status_code == 422
    assert "plus valable" in again.get_data(as_text=True)


def test_expired_link_fails(demo: Portal, app: Flask) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    path = _reset_link(demo)
    demo.clock.advance(timedelta(hours=1, minutes=1))
    response = _reset(app.test_client(), path, "une nouvelle phrase de passe")
    assert response.status_code == 422
    assert login(app.test_client(), "parent@example.org", "parent-demo-password").status_code == 302


def test_reset_refuses_a_weak_password_with_a_field_error(demo: Portal, app: Flask) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    response = _reset(app.test_client(), _reset_link(demo), "Mairie2024!")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in page and "au moins 12 caractères" in page


def test_change_password_keeps_this_session(
    demo: Portal, app: Flask, parent_client: FlaskClient
) -> None:
    other = app.test_client()
    assert login(other, "parent@example.org", "parent-demo-password").status_code == 302
    token = csrf_token(parent_client, "/mon-mot-de-passe")
    wrong = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "pas-le-bon-mot-de-passe",
            "password": "une phrase toute neuve",
            "confirm": "une phrase toute neuve",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422 and "Mot de passe actuel incorrect." in wrong.get_data(
        as_text=True
    )
    done = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "parent-demo-password",
            "password": "une phrase toute neuve",
            "confirm": "une phrase toute neuve",
            "csrf_token": token,
        },
    )
    assert done.status_code == 302
    assert parent_client.get("/").status_code == 200  # this session continues
    assert other.get("/").status_code == 302  # the other one ended


def test_a_new_request_ends_the_older_links(demo: Portal, app: Flask) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    first = _reset_link(demo)
    demo.clock.advance(timedelta(minutes=1))  # the outbox names its files by time
    _request_reset(app.test_client(), "parent@example.org")
    second = _reset_link(demo)
    assert first != second
    stale = _reset(app.test_client(), first, "une nouvelle phrase de passe")
    assert stale.status_code == 422 and "plus valable" in stale.get_data(as_text=True)
    assert _reset(app.test_client(), second, "une nouvelle phrase de passe").status_code == 302


def test_a_reset_ends_every_other_unused_link(demo: Portal, app: Flask) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    first = _reset_link(demo)
    # Two links alive at once (say, requested just before this fix): using one ends both.
    with demo.unit_of_work() as uow:
        from famille_core.services import accounts

        second_token = accounts.request_password_reset(demo, uow, "parent@example.org")
        uow.commit()
    from famille_core.entities import PasswordResetToken

    with demo.unit_of_work() as uow:
        for record in uow.find(PasswordResetToken):
            record.used_at = None  # revive the first one: both unused
        uow.commit()
    assert _reset(app.test_client(), first, "une nouvelle phrase de passe").status_code == 302
    second = f"/reinitialiser-mot-de-passe#code={second_token}"
    assert _reset(app.test_client(), second, "encore une autre phrase").status_code == 422


def test_a_password_change_ends_unused_links(
    demo: Portal, app: Flask, parent_client: FlaskClient
) -> None:
    _request_reset(app.test_client(), "parent@example.org")
    link = _reset_link(demo)
    changed = parent_client.post(
        "/mon-mot-de-passe",
        data={
            "current": "parent-demo-password",
            "password": "une phrase toute neuve",
            "confirm": "une phrase toute neuve",
            "csrf_token": csrf_token(parent_client, "/mon-mot-de-passe"),
        },
    )
    assert changed.status_code == 302
    # Whoever reads the mailbox later cannot take the account back with the old link.
    late = _reset(app.test_client(), link, "la phrase de l'intrus")
    assert late.status_code == 422
    assert login(app.test_client(), "parent@example.org", "la phrase de l'intrus").status_code == 200


def test_no_request_line_holds_the_reset_code(demo: Portal, app: Flask) -> None:
    """What an access log records (path and query) never holds the code, through the journey."""
    seen: list[str] = []
    inner = app.wsgi_app

    def access_log(environ, start_response):  # type: ignore[no-untyped-def]
        seen.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        return inner(environ, start_response)

    app.wsgi_app = access_log  # type: ignore[method-assign]
    browser = app.test_client()
    _request_reset(browser, "parent@example.org")
    link = _reset_link(demo)
    code = link.partition("#code=")[2]
    assert len(code) >= 40
    assert _reset(browser, link, "une nouvelle phrase de passe").status_code == 302
    assert "/reinitialiser-mot-de-passe?" in seen
    assert not [line for line in seen if code in line]


def test_without_javascript_the_code_is_typed_into_the_form(demo: Portal, app: Flask) -> None:
    page = app.test_client().get("/reinitialiser-mot-de-passe").get_data(as_text=True)
    assert 'id="reset-code" hidden' not in page  # the field shows when nothing filled it
    assert '<label for="f-token">Code reçu par e-mail' in page
    assert "password-reset.js" in page and "<script>" not in page
    _request_reset(app.test_client(), "parent@example.org")
    mail = message_from_bytes(_mails(demo)[-1].read_bytes())
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    code = _reset_link(demo).partition("#code=")[2]
    assert f"copiez celui-ci :\n{code}" in body
    wrong = _reset(app.test_client(), "/reinitialiser-mot-de-passe#code=pas-le-bon", "une phrase neuve ok")
    assert wrong.status_code == 422 and "plus valable" in wrong.get_data(as_text=True)


def test_reset_codes_are_attempt_limited(demo: Portal, app: Flask) -> None:
    """docs/security.md point 36: guessing reset codes is limited per address like passwords."""
    client = app.test_client()
    statuses = [
        _reset(client, f"/reinitialiser-mot-de-passe#code=devine-{n}", "une phrase neuve ok").status_code
        for n in range(6)
    ]
    assert statuses == [422] * 5 + [429]
