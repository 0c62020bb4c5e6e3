"""Liste nominative and Pointage (issue 15, docs/calendar.md): the named list of an activity's
day with what staff need, printable and in CSV; the pointage with its trace, its corrections and
its export; nobody else reaches them."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core.entities import (
    Actor,
    Attendance,
    AttendanceMark,
    AuditRecord,
    Reservation,
    ReservationState,
    User,
)
from famille_core.errors import NotFound, PermissionDenied, ValidationFailed
from famille_plugins.calendar.services import lists
from tests.conftest import agent_of_service, csrf_token
from tests.plugins.calendar.conftest import Demo

TODAY = date(2026, 11, 16)
DEMO_DAY = date(2026, 11, 13)
"""The demo's past canteen day with its pointage (the last open day before the test clock)."""


def _book_today(cal: Demo, *child_ids: int) -> None:
    with cal.portal.unit_of_work() as uow:
        for child_id in child_ids:
            family_id = cal.other_family_id if child_id == cal.lea else cal.family_id
            uow.add(
                Reservation(
                    child_id=child_id, activity_id=cal.cantine, family_id=family_id, day=TODAY,
                    state=ReservationState.ACCEPTED, created_at=cal.portal.clock.now(),
                )
            )
        uow.commit()


def _attendance(cal: Demo, day: date = TODAY) -> dict[int, tuple[bool, bool, int | None]]:
    with cal.portal.unit_of_work() as uow:
        return {
            a.child_id: (a.present, a.unexpected, a.marked_by)
            for a in uow.find(Attendance, activity_id=cal.cantine, day=day)
        }


def test_the_named_list_shows_allergies_pai_diet_and_whom_to_call(agent_client: FlaskClient, cal: Demo) -> None:
    page = agent_client.get(f"/gestion/agenda/liste?activite={cal.cantine}&jour={DEMO_DAY.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>Liste nominative" in html
    assert "DUPONT Emma" in html and "PETIT Hugo" in html
    assert "Alimentaires : Arachide" in html
    assert "éviction de l&#39;arachide" in html  # the PAI's details
    assert "MOREAU" in html  # Emma's grandmother, authorised to collect her
    assert "06 12 34 56 78" in html  # her mother's mobile
    assert "Lucas" not in html  # not booked that day


def test_reading_the_list_audits_each_health_record_read(agent_client: FlaskClient, cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        before = uow.count(AuditRecord, record_type="health_record", actor_user_id=cal.agent.user_id)
    agent_client.get(f"/gestion/agenda/liste?activite={cal.cantine}&jour={DEMO_DAY.isoformat()}")
    with cal.portal.unit_of_work() as uow:
        after = uow.count(AuditRecord, record_type="health_record", actor_user_id=cal.agent.user_id)
        lists_read = [r.record_id for r in uow.find(AuditRecord, record_type="named_list")]
    assert after - before == 2  # Emma and Hugo
    assert lists_read == [cal.cantine]


def test_the_list_prints_as_a_pdf_and_downloads_as_csv(agent_client: FlaskClient, cal: Demo) -> None:
    query = f"activite={cal.cantine}&jour={DEMO_DAY.isoformat()}"
    pdf = agent_client.get(f"/gestion/agenda/liste.pdf?{query}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    answer = agent_client.get(f"/gestion/agenda/liste.csv?{query}")
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["Date", "Activité", "Site", "Nom", "Prénom"]
    emma = next(r for r in rows if r[4] == "Emma")
    assert emma[7] == "Arachide" and emma[9].startswith("Oui") and emma[-1] == "Présent"
    hugo = next(r for r in rows if r[4] == "Hugo")
    assert hugo[-1] == "Absent"


def test_the_list_filters_by_site(agent_client: FlaskClient, cal: Demo) -> None:
    query = f"activite={cal.cantine}&jour={DEMO_DAY.isoformat()}"
    assert "PETIT Hugo" in agent_client.get(f"/gestion/agenda/liste?{query}&site=École Jules Ferry").get_data(as_text=True)
    other = agent_client.get(f"/gestion/agenda/liste?{query}&site=École Pasteur").get_data(as_text=True)
    assert "PETIT Hugo" not in other and "Aucun enfant réservé" in other


def test_an_agent_marks_the_day_and_a_correction_is_traced(agent_client: FlaskClient, cal: Demo) -> None:
    _book_today(cal, cal.emma, cal.lucas)
    url = f"/gestion/agenda/pointage?activite={cal.cantine}&jour={TODAY.isoformat()}"
    page = agent_client.get(url).get_data(as_text=True)
    assert "<title>Pointage" in page and f'name="presence-{cal.emma}"' in page
    token = csrf_token(agent_client, url)
    answer = agent_client.post(url, data={"csrf_token": token, f"presence-{cal.emma}": "present", f"presence-{cal.lucas}": "absent"})
    assert answer.status_code == 302
    assert _attendance(cal) == {cal.emma: (True, False, cal.agent.user_id), cal.lucas: (False, False, cal.agent.user_id)}
    # Lucas arrives late: the agent corrects the mark; both marks stay in the trace.
    agent_client.post(url, data={"csrf_token": token, f"presence-{cal.emma}": "present", f"presence-{cal.lucas}": "present"})
    assert _attendance(cal)[cal.lucas] == (True, False, cal.agent.user_id)
    with cal.portal.unit_of_work() as uow:
        lucas = uow.first(Attendance, child_id=cal.lucas, day=TODAY)
        assert lucas is not None
        marks = [m.present for m in uow.find(AttendanceMark, attendance_id=lucas.id, order_by=("id",))]
        actions = [r.action for r in uow.find(AuditRecord, record_type="attendance", record_id=lucas.id, order_by=("id",))]
    assert marks == [False, True]
    assert actions == ["mark", "correct"]
    page = agent_client.get(url).get_data(as_text=True)
    assert "Historique du pointage" in page and "Magnus" in page


def test_a_no_show_is_visible_to_agents(agent_client: FlaskClient, cal: Demo) -> None:
    page = agent_client.get(f"/gestion/agenda/pointage?activite={cal.cantine}&jour={DEMO_DAY.isoformat()}").get_data(as_text=True)
    section = page.split("Absents sans prévenir", 1)[1].split("<h2>", 1)[0]
    assert "Hugo PETIT" in section and "Emma" not in section


def test_an_unexpected_child_is_added_present(agent_client: FlaskClient, cal: Demo) -> None:
    _book_today(cal, cal.emma)
    url = f"/gestion/agenda/pointage?activite={cal.cantine}&jour={TODAY.isoformat()}"
    token = csrf_token(agent_client, url)
    answer = agent_client.post(
        f"/gestion/agenda/pointage/non-prevu?activite={cal.cantine}&jour={TODAY.isoformat()}",
        data={"csrf_token": token, "child_id": str(cal.lucas)},
    )
    assert answer.status_code == 302
    assert _attendance(cal) == {cal.lucas: (True, True, cal.agent.user_id)}
    again = agent_client.post(
        f"/gestion/agenda/pointage/non-prevu?activite={cal.cantine}&jour={TODAY.isoformat()}",
        data={"csrf_token": token, "child_id": str(cal.lucas)},
    )
    assert again.status_code == 422 and "déjà sur la liste" in again.get_data(as_text=True)
    assert "Non prévu" in agent_client.get(url.replace("pointage", "liste")).get_data(as_text=True)


def test_forged_or_future_marks_change_nothing(cal: Demo) -> None:
    _book_today(cal, cal.emma)
    with cal.portal.unit_of_work() as uow:
        with pytest.raises(ValidationFailed) as forged:
            lists.mark_attendance(cal.portal, uow, cal.agent, cal.cantine, TODAY, {cal.emma: True, cal.lea: True})
        assert forged.value.issues[0].code == "not_on_list"
        with pytest.raises(ValidationFailed) as future:
            lists.mark_attendance(cal.portal, uow, cal.agent, cal.cantine, date(2026, 11, 19), {})
        assert future.value.issues[0].code == "future_day"
        with pytest.raises(ValidationFailed) as stranger:
            lists.add_unexpected(cal.portal, uow, cal.agent, cal.mercredi, TODAY, cal.lucas)
        assert stranger.value.issues[0].code == "not_enrolled"
    assert _attendance(cal) == {}


def test_parents_cannot_change_attendance(parent_client: FlaskClient, cal: Demo) -> None:
    before = _attendance(cal, DEMO_DAY)
    with cal.portal.unit_of_work() as uow:
        with pytest.raises(PermissionDenied):
            lists.mark_attendance(cal.portal, uow, cal.parent, cal.cantine, DEMO_DAY, {cal.emma: False})
        with pytest.raises(PermissionDenied):
            lists.add_unexpected(cal.portal, uow, cal.parent, cal.cantine, DEMO_DAY, cal.lucas)
    token = csrf_token(parent_client, "/")
    query = f"activite={cal.cantine}&jour={DEMO_DAY.isoformat()}"
    for path, data in (
        (f"/gestion/agenda/pointage?{query}", {f"presence-{cal.emma}": "absent"}),
        (f"/gestion/agenda/pointage/non-prevu?{query}", {"child_id": str(cal.lucas)}),
    ):
        assert parent_client.post(path, data={"csrf_token": token, **data}).status_code == 404
    assert parent_client.get(f"/gestion/agenda/liste?{query}").status_code == 404
    assert _attendance(cal, DEMO_DAY) == before


def test_an_agent_of_another_service_gets_404(app: Flask, cal: Demo) -> None:
    client = agent_of_service(cal.portal, app, "SCOLAIRE")
    query = f"activite={cal.cantine}&jour={DEMO_DAY.isoformat()}"
    for path in ("/gestion/agenda/liste", f"/gestion/agenda/liste?{query}", f"/gestion/agenda/liste.csv?{query}",
                 f"/gestion/agenda/liste.pdf?{query}", f"/gestion/agenda/pointage?{query}", "/gestion/agenda/presences.csv"):
        assert client.get(path).status_code == 404, path
    with cal.portal.unit_of_work() as uow:
        user = uow.first(User, email="scolaire@example.org")
        assert user is not None
        with pytest.raises(NotFound):
            lists.named_list(cal.portal, uow, Actor.for_user(user), cal.cantine, DEMO_DAY)
        assert uow.count(AuditRecord, actor_user_id=user.id, record_type="health_record") == 0


def test_the_attended_days_export_for_billing(agent_client: FlaskClient, cal: Demo) -> None:
    answer = agent_client.get("/gestion/agenda/presences.csv?du=2026-11-01&au=2026-11-16")
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Date", "Activité", "Enfant (identifiant)", "Nom", "Prénom", "Présent", "Non prévu", "Réservé",
                       "Absence déclarée", "Absent sans prévenir"]
    assert [(r[0], r[1], r[4], r[5], r[9]) for r in rows[1:]] == [
        ("2026-11-13", "CANTINE", "Emma", "oui", "non"),  # came without a booking
        ("2026-11-13", "CANTINE", "Hugo", "non", "oui"),
    ]
    with cal.portal.unit_of_work() as uow:
        assert uow.count(AuditRecord, action="export", record_type="attendance", actor_user_id=cal.agent.user_id) == 1
    bad = agent_client.get("/gestion/agenda/presences.csv?du=2026-11-16&au=2026-11-01", follow_redirects=True)
    assert "Choisissez une période" in bad.get_data(as_text=True)


def test_the_api_gives_the_attended_days_to_the_erp(client: FlaskClient, cal: Demo) -> None:
    from famille_core.entities import Scope
    from tests.api.conftest import make_token

    auth = {"Authorization": f"Bearer {make_token(cal.portal, 'erp', [Scope.AGENDA_READ.value])}"}
    answer = client.get("/api/v1/attendance?from=2026-11-01&to=2026-11-16", headers=auth)
    assert answer.status_code == 200
    items = {(i["child_id"], i["day"]): (i["present"], i["unexpected"]) for i in answer.get_json()["items"]}
    with cal.portal.unit_of_work() as uow:
        hugo = next(a.child_id for a in uow.find(Attendance, day=DEMO_DAY) if a.child_id != cal.emma)
    assert items == {(cal.emma, "2026-11-13"): (True, True), (hugo, "2026-11-13"): (False, False)}
    assert client.get("/api/v1/attendance?from=2026-11-01&to=2026-11-16").status_code == 401


@pytest.mark.postgres
def test_two_tablets_marking_the_same_list_at_once_leave_one_row_and_both_marks(cal: Demo) -> None:
    """Two agents mark Emma at the same moment, one présent, the other absent: the named lock
    serialises them, so one attendance row holds the last mark and the trace has both."""
    import threading

    _book_today(cal, cal.emma)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def mark(present: bool) -> None:
        barrier.wait()
        try:
            with cal.portal.unit_of_work() as uow:
                lists.mark_attendance(cal.portal, uow, cal.agent, cal.cantine, TODAY, {cal.emma: present})
                uow.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=mark, args=(present,)) for present in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with cal.portal.unit_of_work() as uow:
        rows = uow.find(Attendance, child_id=cal.emma, day=TODAY)
        assert len(rows) == 1
        marks = [m.present for m in uow.find(AttendanceMark, attendance_id=rows[0].id, order_by=("id",))]
    assert sorted(marks) == [False, True] and rows[0].present == marks[-1]


def _grow(cal: Demo, children: int) -> None:
    """More children booked on the demo day, each with a health record, details and a person."""
    from famille_core.entities import (
        AuthorizedPerson,
        Child,
        ChildDetails,
        Enrollment,
        FamilyChild,
        HealthRecord,
    )

    with cal.portal.unit_of_work() as uow:
        for n in range(children):
            kid = Child(first_name=f"Aaron{n}", last_name="DUPONT")
            uow.add(kid)
            uow.flush()
            assert kid.id is not None
            uow.add(FamilyChild(family_id=cal.family_id, child_id=kid.id))
            uow.add(Enrollment(child_id=kid.id, activity_id=cal.cantine, family_id=cal.family_id,
                               start_date=date(2026, 9, 1), end_date=date(2027, 7, 5), site="École Jules Ferry"))
            uow.add(Reservation(child_id=kid.id, activity_id=cal.cantine, family_id=cal.family_id, day=DEMO_DAY,
                                state=ReservationState.ACCEPTED, created_at=cal.portal.clock.now()))
            uow.add(HealthRecord(child_id=kid.id, food_allergies="Gluten", has_pai=True))
            uow.add(ChildDetails(child_id=kid.id, diet="sans_porc"))
            uow.add(AuthorizedPerson(child_id=kid.id, family_id=cal.family_id, last_name="ROUX", first_name="Ana", phone="0601"))
        uow.commit()


def test_the_list_and_the_pointage_run_a_constant_number_of_queries(agent_client: FlaskClient, cal: Demo, engine: Any) -> None:
    from tests.sql_counting import counting

    query = f"activite={cal.cantine}&jour={DEMO_DAY.isoformat()}"
    for path in (f"/gestion/agenda/liste?{query}", f"/gestion/agenda/pointage?{query}"):
        agent_client.get(path)  # warm-up
    with counting(engine) as small_list:
        agent_client.get(f"/gestion/agenda/liste?{query}")
    with counting(engine) as small_marks:
        agent_client.get(f"/gestion/agenda/pointage?{query}")
    _grow(cal, 8)
    with cal.portal.unit_of_work() as uow:
        audited = uow.count(AuditRecord)
    with counting(engine) as large_list:
        page = agent_client.get(f"/gestion/agenda/liste?{query}").get_data(as_text=True)
    with cal.portal.unit_of_work() as uow:
        audited = uow.count(AuditRecord) - audited
    with counting(engine) as large_marks:
        agent_client.get(f"/gestion/agenda/pointage?{query}")
    assert "DUPONT Aaron7" in page and "Alimentaires : Gluten" in page and "Sans porc" in page

    def reads(statements: list[str]) -> list[str]:
        return [s for s in statements if not s.startswith("INSERT INTO audit_record")]

    # The reads stay the same; the audit writes one row per health record read, by design (one
    # statement per row on SQLite, batched on PostgreSQL).
    assert len(reads(large_list)) == len(reads(small_list)), "\n".join(large_list)
    assert len(reads(large_marks)) == len(reads(small_marks)), "\n".join(large_marks)
    assert audited == 11  # the list, then Emma's, Hugo's and the 8 new health records
