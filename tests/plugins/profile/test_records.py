"""Mon compte and Mes enfants: bad input, stale forms, other households, sensitive changes,
the JSON export and the masked IBAN."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Conflict, Portal
from famille_core.entities import (
    Actor,
    AuthorizedPerson,
    BankDetails,
    ChildDetails,
    Family,
    Guardian,
    GuardianRole,
    HealthRecord,
    Role,
    User,
)
from famille_plugins.profile.services import changes
from tests.conftest import csrf_token
from tests.plugins.profile.conftest import child_id, form_version, post_form

DEMO_IBAN = "FR7630006000011234567890189"


def _snapshot(portal: Portal) -> dict[str, Any]:
    """Every profile row, as plain values (to prove that nothing changed)."""
    with portal.unit_of_work() as uow:
        rows: dict[str, Any] = {}
        for cls in (Guardian, BankDetails, AuthorizedPerson, ChildDetails, HealthRecord, Family):
            rows[cls.__name__] = sorted(
                (repr({k: v for k, v in vars(o).items() if not k.startswith("_")}) for o in uow.find(cls)),
            )
        return rows


def _responsable_form() -> dict[str, str]:
    return {"civility": "Madame", "last_name": "DUPONT", "first_name": "Marie", "phone_mobile": "06 12 34 56 78"}


@pytest.mark.parametrize(
    ("path", "data", "field", "message"),
    [
        ("/compte/banque", {"holder": "M. D", "iban": "FR7630006000011234567890188"}, "iban", "IBAN n'est pas valide"),
        ("/compte/responsable", {**_responsable_form(), "birth_date": "2023-02-30"}, "birth_date", "Date invalide"),
        ("/compte/responsable", {**_responsable_form(), "birth_date": "31/02/1984"}, "birth_date", "Date invalide"),
        ("/compte/responsable", {**_responsable_form(), "birth_date": "2030-01-01"}, "birth_date", "futur"),
        ("/compte/responsable", {**_responsable_form(), "email": "pas-une-adresse"}, "email", "Adresse e-mail invalide"),
        ("/compte/responsable", {**_responsable_form(), "phone_mobile": "12"}, "phone_mobile", "téléphone invalide"),
        ("/compte/responsable", {**_responsable_form(), "last_name": ""}, "last_name", "obligatoire"),
        ("/compte/fiscal", {"year": "2025", "reference_income": "abc", "tax_shares": "3"}, "reference_income", "Saisissez un nombre"),
        ("/compte/fiscal", {"year": "2025", "reference_income": "100", "tax_shares": "0"}, "tax_shares", "parts"),
        ("/compte/caf", {"regime": "RELIGIEUX"}, "regime", "valeurs proposées"),
    ],
)
def test_bad_input_gets_a_french_error_linked_to_its_field_and_changes_nothing(
    parent_client: FlaskClient, demo: Portal, path: str, data: dict[str, str], field: str, message: str
) -> None:
    before = _snapshot(demo)
    response = post_form(parent_client, path, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert message in page
    assert f'href="#f-{field}"' in page  # the error summary links to the field
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*f-{field}-error-1', page)
    assert _snapshot(demo) == before


@pytest.mark.parametrize("extra", [{"family_id": "2"}, {"balance": "0"}, {"id": "9"}, {"role": "admin"}])
def test_unknown_or_forbidden_fields_are_refused(parent_client: FlaskClient, demo: Portal, extra: dict[str, str]) -> None:
    before = _snapshot(demo)
    response = post_form(parent_client, "/compte/responsable", {**_responsable_form(), "first_name": "Autre", **extra})
    assert response.status_code == 422
    assert "n'existe pas ou ne peut pas être modifié" in response.get_data(as_text=True).replace("&#39;", "'")
    assert _snapshot(demo) == before


def test_stale_form_gets_a_conflict_message_not_a_silent_overwrite(parent_client: FlaskClient, demo: Portal) -> None:
    old_version = form_version(parent_client, "/compte/conjoint")
    first = post_form(parent_client, "/compte/conjoint", {"last_name": "DUPONT", "first_name": "Jean", "phone_mobile": "07 00 00 00 01"})
    assert first.status_code == 302
    stale = post_form(parent_client, "/compte/conjoint",
                      {"last_name": "DUPONT", "first_name": "Jean", "phone_mobile": "07 00 00 00 02", "version": old_version})
    assert stale.status_code == 409
    assert "modifiée entre-temps" in stale.get_data(as_text=True).replace("&#39;", "'")
    with demo.unit_of_work() as uow:
        assert uow.first(Guardian, role=GuardianRole.SECOND).phone_mobile == "07 00 00 00 01"  # type: ignore[union-attr]


def test_stale_removal_of_an_authorised_person_is_a_conflict(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/nouvelle",
              {"last_name": "LEROY", "first_name": "Anne", "phone": "0611223344", "may_pick_up": "on"})
    with demo.unit_of_work() as uow:
        person = uow.first(AuthorizedPerson, last_name="LEROY")  # the demo has Emma's grandmother
        assert person is not None
        pid, version = person.id, person.version
    post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/{pid}",
              {"last_name": "LEROY", "first_name": "Anne", "phone": "0611223355"})
    response = parent_client.post(f"/compte/enfants/{lucas}/autorisations/{pid}/supprimer",
                                  data={"csrf_token": csrf_token(parent_client, "/compte/"), "version": str(version)},
                                  follow_redirects=True)
    assert "modifiée entre-temps" in response.get_data(as_text=True).replace("&#39;", "'")
    with demo.unit_of_work() as uow:
        assert uow.get(AuthorizedPerson, pid) is not None


@pytest.mark.postgres
def test_two_simultaneous_saves_one_wins_the_other_gets_a_conflict(demo: Portal) -> None:
    with demo.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        actor = Actor.for_user(user, authenticated_at=demo.clock.now())
        version = uow.first(Guardian, role=GuardianRole.SECOND).version  # type: ignore[union-attr]
    first_flushed = threading.Event()
    outcomes: list[str] = []

    def save(phone: str, first: bool) -> None:
        # Both read version N; the first writes and holds the row, the second reads the same
        # version (readers are not blocked), then its write waits and loses.
        if not first:
            first_flushed.wait(timeout=10)
        with demo.unit_of_work() as uow:
            try:
                changes.update_section(demo, uow, actor, "conjoint",
                                        {"last_name": "DUPONT", "first_name": "Jean", "phone_mobile": phone}, version)
                if first:
                    first_flushed.set()
                    time.sleep(0.5)
                uow.commit()
                outcomes.append("saved")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=("0700000001", True)), threading.Thread(target=save, args=("0700000002", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "saved"]


def test_parent_adds_edits_and_removes_an_authorised_person(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    added = post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/nouvelle",
                      {"last_name": "LEROY", "first_name": "Anne", "relationship": "Grand-mère",
                       "phone": "06 11 22 33 44", "may_pick_up": "on", "emergency_contact": "on"})
    assert added.status_code == 302
    page = parent_client.get(f"/compte/enfants/{lucas}/").get_data(as_text=True).replace("&#39;", "'")
    assert "Anne LEROY" in page and "Grand-mère" in page
    with demo.unit_of_work() as uow:
        person = uow.first(AuthorizedPerson, last_name="LEROY")  # the demo has Emma's grandmother
        assert person is not None and person.may_pick_up and person.emergency_contact
        pid = person.id
    post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/{pid}",
              {"last_name": "LEROY", "first_name": "Anne", "phone": "06 11 22 33 44"})
    with demo.unit_of_work() as uow:
        person = uow.get(AuthorizedPerson, pid)
        assert person is not None and not person.may_pick_up
        version = person.version
    parent_client.post(f"/compte/enfants/{lucas}/autorisations/{pid}/supprimer",
                       data={"csrf_token": csrf_token(parent_client, "/compte/"), "version": str(version)})
    with demo.unit_of_work() as uow:
        assert uow.get(AuthorizedPerson, pid) is None


def test_sensitive_forms_need_a_recent_login(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    token = csrf_token(parent_client, "/compte/")
    demo.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
    for path in ("/compte/banque", f"/compte/enfants/{lucas}/autorisations/nouvelle"):
        response = parent_client.get(path)
        assert response.status_code == 302 and "/connexion/confirmer" in response.headers["Location"]
    before = _snapshot(demo)
    response = parent_client.post(f"/compte/enfants/{lucas}/autorisations/nouvelle",
                                  data={"csrf_token": token, "version": "0", "last_name": "X", "first_name": "Y", "phone": "0611223344"})
    assert response.status_code == 302 and "/connexion/confirmer" in response.headers["Location"]
    assert _snapshot(demo) == before


def test_adding_an_authorised_person_sends_a_security_notice(parent_client: FlaskClient, demo: Portal) -> None:
    from tests.mail_helpers import sent_mail_files

    lucas = child_id(demo, "Lucas")
    post_form(parent_client, f"/compte/enfants/{lucas}/autorisations/nouvelle",
              {"last_name": "LEROY", "first_name": "Anne", "phone": "06 11 22 33 44"})
    mails = [p.read_bytes() for p in sent_mail_files(demo)]
    assert len(mails) == 1 and b"LEROY" not in mails[0]


CHILD_PATHS = [
    ("GET", "/compte/enfants/{id}/"),
    ("GET", "/compte/enfants/{id}/complementaires"),
    ("POST", "/compte/enfants/{id}/complementaires"),
    ("GET", "/compte/enfants/{id}/sanitaires"),
    ("POST", "/compte/enfants/{id}/sanitaires"),
    ("GET", "/compte/enfants/{id}/autorisations/nouvelle"),
    ("POST", "/compte/enfants/{id}/autorisations/nouvelle"),
    ("GET", "/compte/enfants/{id}/photo"),
    ("GET", "/compte/enfants/{id}/photo.jpg"),
]


@pytest.mark.parametrize(("method", "path"), CHILD_PATHS)
def test_another_familys_child_is_404_and_unchanged(parent_client: FlaskClient, demo: Portal, method: str, path: str) -> None:
    hugo = child_id(demo, "Hugo")
    before = _snapshot(demo)
    url = path.format(id=hugo)
    if method == "GET":
        response = parent_client.get(url)
    else:
        response = parent_client.post(url, data={"csrf_token": csrf_token(parent_client, "/compte/"), "version": "1",
                                                 "diet": "standard", "last_name": "X", "first_name": "Y", "phone": "0611223344"})
    assert response.status_code == 404
    assert _snapshot(demo) == before


def test_another_familys_authorised_person_is_404(parent_client: FlaskClient, demo: Portal) -> None:
    hugo = child_id(demo, "Hugo")
    lucas = child_id(demo, "Lucas")
    with demo.unit_of_work() as uow:
        petit = uow.first(Family, name="PETIT")
        person = AuthorizedPerson(child_id=hugo, family_id=petit.id, last_name="PETIT", first_name="Luc")  # type: ignore[union-attr,arg-type]
        uow.add(person)
        uow.commit()
        pid = person.id
    before = _snapshot(demo)
    token = csrf_token(parent_client, "/compte/")
    for url in (f"/compte/enfants/{lucas}/autorisations/{pid}", f"/compte/enfants/{hugo}/autorisations/{pid}"):
        assert parent_client.get(url).status_code == 404
        assert parent_client.post(url, data={"csrf_token": token, "version": "1", "last_name": "X", "first_name": "Y", "phone": "0611223344"}).status_code == 404
        assert parent_client.post(url + "/supprimer", data={"csrf_token": token, "version": "1"}).status_code == 404
    assert _snapshot(demo) == before


def test_health_form_saves_vaccinations_and_refuses_impossible_dates(parent_client: FlaskClient, demo: Portal) -> None:
    emma = child_id(demo, "Emma")
    path = f"/compte/enfants/{emma}/sanitaires"
    ok = post_form(parent_client, path, {"doctor_name": "Dr Lefèvre", "has_pai": "on", "pai_details": "Arachide",
                                         "vaccinations.0.name": "DTP", "vaccinations.0.date": "2020-12-01",
                                         "vaccinations.1.name": "ROR", "vaccinations.1.date": "01/06/2021"})
    assert ok.status_code == 302
    page = parent_client.get(f"/compte/enfants/{emma}/").get_data(as_text=True).replace("&#39;", "'")
    assert "ROR : 01/06/2021" in page
    bad = post_form(parent_client, path, {"vaccinations.0.name": "DTP", "vaccinations.0.date": "2021-02-29"})
    assert bad.status_code == 422 and 'href="#f-vaccinations-0-date"' in bad.get_data(as_text=True).replace("&#39;", "'")
    before_birth = post_form(parent_client, path, {"vaccinations.0.name": "BCG", "vaccinations.0.date": "2010-01-01"})
    assert before_birth.status_code == 422


def test_json_export_holds_exactly_the_familys_data(parent_client: FlaskClient, demo: Portal) -> None:
    response = parent_client.get("/compte/mes-donnees.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.get_data(as_text=True).replace("&#39;", "'"))
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None
        family_id = dupont.id
    assert data["family"]["id"] == family_id
    assert {c["first_name"] for c in data["children"]} == {"Lucas", "Emma"}
    assert {g["first_name"] for g in data["guardians"]} == {"Marie", "Jean"}
    for kind in ("accounts", "guardians", "fiscal_data", "caf", "bank_details", "enrollments", "invoices"):
        assert data[kind], kind
        assert {row["family_id"] for row in data[kind]} == {family_id}, kind
    emma = next(c for c in data["children"] if c["first_name"] == "Emma")
    assert emma["health_record"][0]["food_allergies"] == "Arachide"
    text = response.get_data(as_text=True).replace("&#39;", "'")
    for foreign in ("MARTIN", "BERNARD", "PETIT", "Léa", "Hugo", "694504900002"):
        assert foreign not in text
    for secret in ("password_hash", "argon2", "session_nonce", "totp_secret", DEMO_IBAN):
        assert secret not in text
    assert "FR76 **** **** **** **** ***0 189" in text
    notice = parent_client.get("/compte/mes-donnees").get_data(as_text=True).replace("&#39;", "'")
    assert "/donnees-personnelles" in notice and "/compte/mes-donnees.json" in notice


def test_iban_never_appears_unmasked_in_any_page(parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal) -> None:
    """Walk every GET page of the portal reachable by the parent and by the agent."""
    with demo.unit_of_work() as uow:
        family_id = uow.first(Family, name="DUPONT").id  # type: ignore[union-attr]
    post_form(parent_client, "/compte/banque", {"holder": "Marie DUPONT", "iban": "DE89370400440532013000"})
    spaced = [DEMO_IBAN, "DE89370400440532013000"]
    spaced += [" ".join(i[k : k + 4] for k in range(0, len(i), 4)) for i in list(spaced)]
    spaced += [i[4:] for i in spaced[:2]]  # the BBAN alone

    def crawl(client: FlaskClient, start: list[str]) -> int:
        seen: set[str] = set()
        queue = list(start)
        while queue:
            url = queue.pop()
            if url in seen or len(seen) > 150:
                continue
            seen.add(url)
            response = client.get(url)
            text = response.get_data().decode("utf-8", "replace")
            for iban in spaced:
                assert iban not in text, f"{url} shows an IBAN unmasked"
            if response.status_code == 200 and response.mimetype == "text/html":
                for link in re.findall(r'href="(/[^"#]*)"', text):
                    if not link.startswith("/static") and "deconnexion" not in link:
                        queue.append(link.replace("&amp;", "&"))
        return len(seen)

    assert crawl(parent_client, ["/", "/compte/", "/compte/banque", "/compte/mes-donnees.json"]) > 10
    assert crawl(agent_client, ["/", "/gestion/familles/demandes", f"/gestion/familles/{family_id}", "/gestion/familles/?q=dupont"]) > 4


def test_agents_do_not_edit_family_records(demo: Portal) -> None:
    agent = Actor(user_id=None, role=Role.AGENT, service="ENFANCE")
    with demo.unit_of_work() as uow, pytest.raises(Exception) as refused:
        changes.update_section(demo, uow, agent, "conjoint", {"last_name": "X", "first_name": "Y"}, 1)
    assert type(refused.value).__name__ == "PermissionDenied"


def test_a_refused_bank_form_does_not_echo_the_typed_iban(parent_client: FlaskClient, demo: Portal) -> None:
    response = post_form(parent_client, "/compte/banque", {"holder": "", "iban": "DE89 3704 0044 0532 0130 00"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "obligatoire" in page
    assert "DE89 3704" not in page and "DE89370400440532013000" not in page


@pytest.mark.parametrize("quotient", ["1E30", "-1E30", "99999999999999999999999999999"])
def test_huge_numbers_are_a_field_error_not_a_server_error(parent_client: FlaskClient, quotient: str) -> None:
    response = post_form(parent_client, "/compte/caf", {"quotient": quotient})
    assert response.status_code == 422
    assert "Saisissez un nombre avec au plus deux décimales." in response.get_data(as_text=True)
