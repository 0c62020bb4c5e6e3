"""Justificatifs (issue 15, docs/calendar.md): a household attaches a file to an absence, agents
accept or refuse it, the absence's billable flag follows the decision and the family is told."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import (
    Absence,
    AuditRecord,
    DocumentState,
    Message,
    SupportingDocument,
)
from famille_core.errors import NotFound, PermissionDenied, ValidationFailed
from famille_core.uploads import Upload, attachment_dir
from famille_plugins.calendar.services import documents
from tests.conftest import csrf_token, login
from tests.plugins.calendar.conftest import Demo
from tests.plugins.inbox.conftest import pdf_bytes, png_bytes


def _absence(cal: Demo, reason: str = "MEDICAL", day: date | None = None) -> Absence:
    """The demo's medical absence of Lucas (a day to come), or a new one on ``day``."""
    with cal.portal.unit_of_work() as uow:
        if day is None:
            found = uow.first(Absence, child_id=cal.lucas, reason_code="MEDICAL")
            assert found is not None
            return found
        absence = Absence(
            child_id=cal.lucas, activity_id=cal.cantine, family_id=cal.family_id, day=day, reason_code=reason,
            reason_label="RAISON MEDICALE" if reason == "MEDICAL" else reason, billable=False,
            created_at=cal.portal.clock.now(),
        )
        uow.add(absence)
        uow.commit()
        return absence


def _attach(client: FlaskClient, absence_id: int, data: bytes, name: str = "certificat.pdf") -> Any:
    token = csrf_token(client, "/agenda/justificatifs/")
    return client.post(
        f"/agenda/justificatifs/{absence_id}",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _documents(portal: Portal) -> list[tuple[int, str, str]]:
    with portal.unit_of_work() as uow:
        return [(d.absence_id, str(d.state), d.content_type) for d in uow.find(SupportingDocument, order_by=("id",))]


def test_a_parent_attaches_a_certificate_stored_outside_the_web_root(parent_client: FlaskClient, cal: Demo) -> None:
    absence = _absence(cal)
    page = parent_client.get("/agenda/justificatifs/").get_data(as_text=True)
    assert "<title>Justificatifs d" in page, page[:800]
    assert "à fournir avant le" in page
    answer = _attach(parent_client, absence.id or 0, pdf_bytes())
    assert answer.status_code == 302
    assert _documents(cal.portal) == [(absence.id, "pending", "application/pdf")]
    stored = list(attachment_dir(cal.portal, documents.FOLDER).iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == pdf_bytes()
    assert "static" not in str(stored[0])
    assert "en attente de vérification" in parent_client.get("/agenda/justificatifs/").get_data(as_text=True)
    again = _attach(parent_client, absence.id or 0, png_bytes(), "photo.png")
    assert again.status_code == 422 and "attend sa vérification" in again.get_data(as_text=True)
    assert len(_documents(cal.portal)) == 1


def test_a_disguised_file_is_refused_and_nothing_is_stored(parent_client: FlaskClient, cal: Demo) -> None:
    absence = _absence(cal)
    answer = _attach(parent_client, absence.id or 0, b"MZ\x90\x00 not a certificate", "certificat.pdf")
    assert answer.status_code == 422
    assert "seuls les fichiers PDF, JPEG et PNG sont acceptés" in answer.get_data(as_text=True)
    assert _documents(cal.portal) == []
    assert not attachment_dir(cal.portal, documents.FOLDER).exists()


def test_another_households_absence_is_404(app: Any, cal: Demo) -> None:
    absence = _absence(cal)
    other = app.test_client()
    assert login(other, "martin@example.org", "martin-demo-password").status_code == 302
    assert _attach(other, absence.id or 0, pdf_bytes()).status_code == 404
    assert _documents(cal.portal) == []
    document = _upload(cal, absence.id or 0)
    assert other.get(f"/agenda/justificatifs/fichier/{document}").status_code == 404
    assert "certificat.pdf" not in other.get("/agenda/justificatifs/").get_data(as_text=True)


def test_the_household_downloads_its_own_justificatif(parent_client: FlaskClient, cal: Demo) -> None:
    document = _upload(cal, _absence(cal).id or 0)
    answer = parent_client.get(f"/agenda/justificatifs/fichier/{document}")
    assert answer.status_code == 200 and answer.data == pdf_bytes()
    assert answer.headers["Content-Disposition"] == "attachment; filename=certificat.pdf"


def _upload(cal: Demo, absence_id: int, data: bytes | None = None) -> int:
    with cal.portal.unit_of_work() as uow:
        document = documents.attach(cal.portal, uow, cal.parent, absence_id, Upload("certificat.pdf", data or pdf_bytes()))
        uow.commit()
        assert document.id is not None
        return document.id


def _billable(cal: Demo, absence_id: int) -> bool:
    with cal.portal.unit_of_work() as uow:
        absence = uow.get(Absence, absence_id)
        assert absence is not None
        return absence.billable


def _notices(cal: Demo) -> list[str]:
    with cal.portal.unit_of_work() as uow:
        return [m.subject for m in uow.find(Message, family_id=cal.family_id, is_system=True, order_by=("id",))]


def test_an_agent_refuses_then_accepts_and_the_billable_flag_follows(agent_client: FlaskClient, cal: Demo) -> None:
    absence = _absence(cal)
    first = _upload(cal, absence.id or 0)
    queue = agent_client.get("/gestion/agenda/justificatifs").get_data(as_text=True)
    assert "<title>Justificatifs à vérifier" in queue and "certificat.pdf" in queue
    token = csrf_token(agent_client, "/gestion/agenda/justificatifs")
    no_reason = agent_client.post(f"/gestion/agenda/justificatifs/{first}", data={"csrf_token": token, "decision": "refuse"})
    assert no_reason.status_code == 422 and "Indiquez le motif du refus." in no_reason.get_data(as_text=True)
    refused = agent_client.post(
        f"/gestion/agenda/justificatifs/{first}", data={"csrf_token": token, "decision": "refuse", "reason": "Illisible."}
    )
    assert refused.status_code == 302
    assert _billable(cal, absence.id or 0) is True  # billable_if_refused = true by default
    assert _notices(cal)[-1] == "Justificatif refusé"
    second = _upload(cal, absence.id or 0)  # a refused justificatif may be replaced
    agent_client.post(f"/gestion/agenda/justificatifs/{second}", data={"csrf_token": token, "decision": "accept"})
    assert _billable(cal, absence.id or 0) is False
    assert _notices(cal)[-1] == "Justificatif accepté"
    twice = agent_client.post(f"/gestion/agenda/justificatifs/{second}", data={"csrf_token": token, "decision": "refuse", "reason": "x"})
    assert twice.status_code == 422
    with cal.portal.unit_of_work() as uow:
        actions = [(r.action, r.record_id) for r in uow.find(AuditRecord, record_type="supporting_document", order_by=("id",))]
    assert actions == [("refuse", first), ("accept", second)]


def test_the_agent_downloads_the_file_and_the_read_is_audited(agent_client: FlaskClient, cal: Demo) -> None:
    document = _upload(cal, _absence(cal).id or 0)
    answer = agent_client.get(f"/gestion/agenda/justificatifs/{document}/fichier")
    assert answer.data == pdf_bytes()
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    with cal.portal.unit_of_work() as uow:
        assert uow.count(AuditRecord, record_type="supporting_document", action="read", record_id=document) == 1


def test_a_required_justificatif_past_due_is_listed_late(agent_client: FlaskClient, cal: Demo) -> None:
    _absence(cal, day=date(2026, 11, 2))  # due by 9 November (7 days), none sent
    _absence(cal, reason="AUTRES", day=date(2026, 11, 3))  # no justificatif needed
    page = agent_client.get("/gestion/agenda/justificatifs").get_data(as_text=True)
    late = page.split("Justificatifs en retard", 1)[1]
    assert "lundi 2 novembre 2026" in late and "mardi 3 novembre 2026" not in late


def test_parents_cannot_decide_and_other_agents_cannot_see(cal: Demo) -> None:
    document = _upload(cal, _absence(cal).id or 0)
    with cal.portal.unit_of_work() as uow:
        with pytest.raises(PermissionDenied):
            documents.decide(cal.portal, uow, cal.parent, document, True)
        with pytest.raises(NotFound):
            documents.document_file(cal.portal, uow, cal.other_parent, document)
        with pytest.raises(ValidationFailed):
            documents.attach(cal.portal, uow, cal.parent, _absence(cal).id or 0, Upload("", b""))
    old = _absence(cal, day=date(2026, 6, 1))
    with cal.portal.unit_of_work() as uow:
        with pytest.raises(ValidationFailed) as too_old:
            documents.attach(cal.portal, uow, cal.parent, old.id or 0, Upload("certificat.pdf", pdf_bytes()))
        assert too_old.value.issues[0].code == "absence_too_old"
    assert _documents(cal.portal)[0][1] == DocumentState.PENDING


class TestConfigured:
    """``billable_if_refused = "unchanged"``, and justificatifs required for another reason."""

    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        calendar = {"documents": {"billable_if_refused": "unchanged", "required_reasons": ["AUTRES"], "days": 2}}
        return {**settings_data, "plugins": {**settings_data.get("plugins", {}), "calendar": calendar}}

    def test_a_refusal_may_leave_the_flag_alone(self, agent_client: FlaskClient, cal: Demo) -> None:
        absence = _absence(cal)
        document = _upload(cal, absence.id or 0)
        token = csrf_token(agent_client, "/gestion/agenda/justificatifs")
        agent_client.post(
            f"/gestion/agenda/justificatifs/{document}", data={"csrf_token": token, "decision": "refuse", "reason": "Illisible."}
        )
        assert _billable(cal, absence.id or 0) is False

    def test_the_required_reasons_and_delay_come_from_the_settings(self, agent_client: FlaskClient, cal: Demo) -> None:
        _absence(cal, day=date(2026, 11, 2))  # MEDICAL: not required here
        _absence(cal, reason="AUTRES", day=date(2026, 11, 12))  # due by 14 November
        late = agent_client.get("/gestion/agenda/justificatifs").get_data(as_text=True).split("Justificatifs en retard", 1)[1]
        assert "jeudi 12 novembre 2026" in late and "lundi 2 novembre 2026" not in late


def test_a_justificatif_whose_change_is_not_kept_leaves_no_file(cal: Demo) -> None:
    """The file is written before its row is committed; when the transaction fails, the file
    goes too (no orphan justificatif on disk)."""
    absence_id = _absence(cal).id or 0
    folder = attachment_dir(cal.portal, documents.FOLDER)

    def stored() -> list[str]:
        return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []

    with pytest.raises(RuntimeError), cal.portal.unit_of_work() as uow:
        documents.attach(cal.portal, uow, cal.parent, absence_id, Upload("certificat.pdf", pdf_bytes()))
        assert len(stored()) == 1
        raise RuntimeError("the database went away before the commit")
    assert stored() == [] and _documents(cal.portal) == []
    with cal.portal.unit_of_work() as uow:
        documents.attach(cal.portal, uow, cal.parent, absence_id, Upload("certificat.pdf", pdf_bytes()))
        uow.commit()
    assert len(stored()) == 1 and len(_documents(cal.portal)) == 1


@pytest.mark.postgres
def test_two_tabs_sending_a_justificatif_at_once_store_one(cal: Demo) -> None:
    """The absence row is locked while a file is attached: the second tab gets the French
    refusal, not a second pending justificatif."""
    import threading

    absence_id = _absence(cal).id or 0
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        barrier.wait()
        try:
            with cal.portal.unit_of_work() as uow:
                documents.attach(cal.portal, uow, cal.parent, absence_id, Upload("certificat.pdf", pdf_bytes()))
                uow.commit()
            outcomes.append("stored")
        except ValidationFailed as refused:
            outcomes.append(refused.issues[0].code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already_attached", "stored"]
    assert len(_documents(cal.portal)) == 1


@pytest.mark.postgres
def test_two_agents_deciding_at_once_decide_once(cal: Demo) -> None:
    import threading

    document = _upload(cal, _absence(cal).id or 0)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(accept: bool) -> None:
        barrier.wait()
        try:
            with cal.portal.unit_of_work() as uow:
                documents.decide(cal.portal, uow, cal.agent, document, accept, "" if accept else "Illisible.")
                uow.commit()
            outcomes.append("decided")
        except ValidationFailed as refused:
            outcomes.append(refused.issues[0].code)

    threads = [threading.Thread(target=decide, args=(accept,)) for accept in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already_decided", "decided"]
    assert _notices(cal).count("Justificatif accepté") + _notices(cal).count("Justificatif refusé") == 1


def test_the_home_page_reminds_the_family_of_a_missing_justificatif(parent_client: FlaskClient, cal: Demo) -> None:
    assert "Justificatifs à fournir" not in parent_client.get("/").get_data(as_text=True)  # the demo's is to come
    absence = _absence(cal, day=date(2026, 11, 12))
    home = parent_client.get("/").get_data(as_text=True)
    assert "Justificatifs à fournir" in home
    assert "Lucas, absence du jeudi 12 novembre 2026 (RAISON MEDICALE) : à fournir avant le jeudi 19 novembre 2026" in home
    _upload(cal, absence.id or 0)
    assert "Justificatifs à fournir" not in parent_client.get("/").get_data(as_text=True)
