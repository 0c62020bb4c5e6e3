"""Change policy per section: bank and tax changes wait for an agent, who accepts or refuses
them; the family is told through notify_family; agent reads and changes are audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal, hookimpl
from famille_core.entities import AuditRecord, BankDetails, ChangeRequest, FiscalData
from famille_core.hooks.results import FamilyNotice
from tests.conftest import csrf_token
from tests.plugins.profile.conftest import post_form

notices: list[FamilyNotice] = []
NEW_IBAN = "DE89370400440532013000"


class NoticeRecorder:
    """Records the notices sent through famille_core.notify_family (and lets the inbox post)."""

    @hookimpl(tryfirst=True)
    def post_family_notice(self, notice: FamilyNotice) -> None:
        notices.append(notice)


@pytest.fixture
def extra_plugins() -> list[object]:
    notices.clear()
    return [NoticeRecorder()]


def _bank(portal: Portal) -> dict[str, Any]:
    with portal.unit_of_work() as uow:
        bank = uow.first(BankDetails)
        assert bank is not None
        return {"iban": bank.iban, "holder": bank.holder, "id": bank.id}


BANK_FORM = {"holder": "Marie et Jean DUPONT", "iban": "de89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
             "mandate_reference": "RUM-2", "mandate_date": "2026-09-01"}


def _request_bank_change(client: FlaskClient) -> None:
    response = post_form(client, "/compte/banque", BANK_FORM)
    assert response.status_code == 302


def test_bank_change_waits_for_validation_then_the_agent_accepts_it(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    before = _bank(demo)
    _request_bank_change(parent_client)
    assert _bank(demo) == before  # nothing applied yet
    page = parent_client.get("/compte/", follow_redirects=True).get_data(as_text=True).replace("&#39;", "'")
    assert "en attente de validation" in page
    assert NEW_IBAN not in page

    listing = agent_client.get("/gestion/familles/demandes").get_data(as_text=True).replace("&#39;", "'")
    assert "Coordonnées bancaires" in listing
    with demo.unit_of_work() as uow:
        request = uow.first(ChangeRequest, state="pending")
        assert request is not None
        request_id = request.id
    detail = agent_client.get(f"/gestion/familles/demandes/{request_id}").get_data(as_text=True).replace("&#39;", "'")
    assert "DE89 **** **** **** **30 00" in detail and NEW_IBAN not in detail
    response = agent_client.post(
        f"/gestion/familles/demandes/{request_id}",
        data={"csrf_token": csrf_token(agent_client, f"/gestion/familles/demandes/{request_id}"),
              "decision": "accepter", "comment": "RIB reçu."},
    )
    assert response.status_code == 302
    after = _bank(demo)
    assert after["iban"] == NEW_IBAN and after["holder"] == "Marie et Jean DUPONT"
    assert [n.subject for n in notices] == ["Modification acceptée : Coordonnées bancaires"]
    assert "RIB reçu." in notices[0].body and NEW_IBAN not in notices[0].body
    assert "en attente de validation" not in parent_client.get("/compte/").get_data(as_text=True).replace("&#39;", "'")
    with demo.unit_of_work() as uow:
        rows = uow.find(AuditRecord, record_type="bank_details", action="update")
        assert [r.record_id for r in rows] == [before["id"]]
        assert uow.first(ChangeRequest, id=request_id).state == "approved"  # type: ignore[union-attr]
    # A second decision on the same request is refused.
    again = agent_client.post(
        f"/gestion/familles/demandes/{request_id}",
        data={"csrf_token": csrf_token(agent_client, "/gestion/familles/demandes"), "decision": "refuser"},
    )
    assert again.status_code == 422 and "déjà été traitée" in again.get_data(as_text=True).replace("&#39;", "'")


def test_refused_request_changes_nothing_and_tells_the_family(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    before = _bank(demo)
    _request_bank_change(parent_client)
    with demo.unit_of_work() as uow:
        request_id = uow.first(ChangeRequest, state="pending").id  # type: ignore[union-attr]
    response = agent_client.post(
        f"/gestion/familles/demandes/{request_id}",
        data={"csrf_token": csrf_token(agent_client, "/gestion/familles/demandes"),
              "decision": "refuser", "comment": "Merci de joindre un RIB."},
    )
    assert response.status_code == 302
    assert _bank(demo) == before
    assert notices[0].subject == "Modification refusée : Coordonnées bancaires"
    assert "Merci de joindre un RIB." in notices[0].body


def test_a_newer_request_replaces_the_pending_one(parent_client: FlaskClient, demo: Portal) -> None:
    _request_bank_change(parent_client)
    _request_bank_change(parent_client)
    with demo.unit_of_work() as uow:
        states = sorted(r.state for r in uow.find(ChangeRequest, section="banque"))
    assert states == ["pending", "superseded"]


def test_tax_data_change_waits_and_the_quotient_follows_once_accepted(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    response = post_form(parent_client, "/compte/fiscal", {"year": "2025", "reference_income": "36 000,00", "tax_shares": "2,5"})
    assert response.status_code == 302
    with demo.unit_of_work() as uow:
        request_id = uow.first(ChangeRequest, state="pending").id  # type: ignore[union-attr]
        assert uow.first(FiscalData, year=2025).reference_income == 42000  # type: ignore[union-attr]
    agent_client.post(
        f"/gestion/familles/demandes/{request_id}",
        data={"csrf_token": csrf_token(agent_client, "/gestion/familles/demandes"), "decision": "accepter"},
    )
    page = parent_client.get("/compte/").get_data(as_text=True).replace("&#39;", "'")
    assert "1\u202f200,00\u00a0€" in page  # 36 000 / 12 / 2.5


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"profile": {"validated_sections": ["fiscal", "banque", "sanitaires"]}}}


def test_configured_section_goes_through_validation(parent_client: FlaskClient, demo: Portal) -> None:
    from tests.plugins.profile.conftest import child_id

    emma = child_id(demo, "Emma")
    response = post_form(parent_client, f"/compte/enfants/{emma}/sanitaires", {"doctor_name": "Dr Martin"})
    assert response.status_code == 302
    assert "en attente de validation" in parent_client.get(f"/compte/enfants/{emma}/").get_data(as_text=True).replace("&#39;", "'")


def test_agent_reads_of_health_records_are_audited_one_row_each(
    agent_client: FlaskClient, parent_client: FlaskClient, demo: Portal
) -> None:
    from tests.plugins.profile.conftest import child_id

    emma = child_id(demo, "Emma")
    parent_client.get(f"/compte/enfants/{emma}/")  # the family's own reads are not audited
    for _ in range(2):
        page = agent_client.get(f"/gestion/familles/enfants/{emma}").get_data(as_text=True).replace("&#39;", "'")
        assert "Arachide" in page
    with demo.unit_of_work() as uow:
        rows = uow.find(AuditRecord, record_type="health_record")
        assert len(rows) == 2
        assert {r.action for r in rows} == {"read"}
        assert all(r.actor_user_id is not None and r.at is not None and r.record_id for r in rows)


def test_agent_read_of_a_family_audits_tax_and_bank_data_and_masks_the_iban(
    agent_client: FlaskClient, demo: Portal
) -> None:
    with demo.unit_of_work() as uow:
        bank = uow.first(BankDetails)
        assert bank is not None
        family_id = bank.family_id
    page = agent_client.get(f"/gestion/familles/{family_id}").get_data(as_text=True).replace("&#39;", "'")
    assert "FR76 **** **** **** **** ***0 189" in page and "FR7630006000011234567890189" not in page
    with demo.unit_of_work() as uow:
        kinds = sorted(r.record_type for r in uow.find(AuditRecord, action="read"))
    assert kinds == ["bank_details", "fiscal_data"]


def test_agent_search_finds_families_and_children(agent_client: FlaskClient, demo: Portal) -> None:
    page = agent_client.get("/gestion/familles/?q=dupont").get_data(as_text=True).replace("&#39;", "'")
    assert "DUPONT (694504900001)" in page and "Lucas DUPONT" in page and "MARTIN" not in page


def test_families_cannot_reach_agent_pages(parent_client: FlaskClient) -> None:
    for path in ("/gestion/familles/", "/gestion/familles/demandes", "/gestion/familles/1"):
        assert parent_client.get(path).status_code in (403, 404)


def test_home_page_counts_requests_for_the_family_and_the_agent(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    assert "en attente de validation" not in parent_client.get("/").get_data(as_text=True)
    assert "à examiner" not in agent_client.get("/").get_data(as_text=True)
    _request_bank_change(parent_client)
    assert "1 demande de modification est en attente de validation." in parent_client.get("/").get_data(as_text=True)
    assert "1 demande de modification à examiner" in agent_client.get("/").get_data(as_text=True)


def test_agent_sees_both_households_of_a_shared_child(agent_client: FlaskClient, demo: Portal) -> None:
    from tests.plugins.profile.conftest import child_id

    page = agent_client.get(f"/gestion/familles/enfants/{child_id(demo, 'Léa')}").get_data(as_text=True)
    assert "MARTIN (694504900002)" in page and "BERNARD (694504900003)" in page
