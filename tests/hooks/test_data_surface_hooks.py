"""The data surfaces' hooks, through the core and the host: each plugin's sections of Mes
données, its API operations, its ``famille export`` kinds and its feed events."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from attrs import frozen
from click.testing import CliRunner
from sqlalchemy import Engine

from famille_core import ConfigurationError, Portal, hookimpl
from famille_core.entities import Activity, DomainEvent, Enrollment, Scope
from famille_core.hooks.results import EventPolicy, ExportKind, FeedEvent
from famille_core.persistence import build_sql_portal
from famille_core.services.export import family_data
from famille_core.settings import Settings
from host_flask import create_app
from host_flask import toolkit as tk
from tests.api.conftest import make_token
from tests.hooks.conftest import plugged
from tests.plugins.calendar.conftest import Demo


class Section:
    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def family_data_sections(self, family_id: int) -> dict[str, Any]:
        return {self.name: [{"family_id": family_id}]}


def test_family_data_sections_collected_into_the_export_each_name_once(cal: Demo) -> None:
    with cal.portal.unit_of_work() as uow:
        bare = family_data(cal.portal, uow, cal.parent)
        with plugged(cal.portal, Section("cantine_menus"), Section("transport")):
            data = family_data(cal.portal, uow, cal.parent)
        assert set(data) - set(bare) == {"cantine_menus", "transport"}
        assert data["transport"] == [{"family_id": cal.family_id}]
        with plugged(cal.portal, Section("reservations")), pytest.raises(RuntimeError):
            family_data(cal.portal, uow, cal.parent)  # two parts would give "reservations"


@frozen(kw_only=True)
class EssaiOut:
    """What the test operation answers."""

    code: str
    activities: int


@tk.api_operation(
    "GET", "/essais", summary="Essai", scope=Scope.FAMILIES_READ, response=EssaiOut
)
def list_essais() -> Any:
    return EssaiOut(code="ok", activities=tk.request_uow().count(Activity))


class Api:
    @hookimpl
    def api_operations(self) -> list[tk.Operation]:
        return [list_essais]


def test_api_operations_collected_registered_and_described_next_to_the_cores(cal: Demo) -> None:
    headers = {"Authorization": f"Bearer {make_token(cal.portal, 'erp', ['families:read'])}"}
    with plugged(cal.portal, Api()):
        client = create_app({"TESTING": True}, portal=cal.portal).test_client()
        document = client.get("/api/v1/openapi.json").get_json()
        answer = client.get("/api/v1/essais", headers=headers)
    assert document["paths"]["/essais"]["get"]["operationId"] == "list_essais"
    assert "EssaiOut" in document["components"]["schemas"] and "/reservations" in document["paths"]
    assert answer.status_code == 200 and answer.get_json()["code"] == "ok"
    assert client.get("/api/v1/essais").status_code == 401  # the host checks the token
    without = create_app({"TESTING": True}, portal=cal.portal).test_client()
    assert without.get("/api/v1/essais", headers=headers).status_code == 404

    class Twice:
        @hookimpl
        def api_operations(self) -> list[tk.Operation]:
            return [list_essais]

    with plugged(cal.portal, Api(), Twice()), pytest.raises(RuntimeError, match="/essais"):
        create_app({"TESTING": True}, portal=cal.portal)


class Kind:
    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def export_kinds(self) -> list[ExportKind]:
        def rows(uow: Any, start: date, end: date) -> list[dict[str, Any]]:
            return [{"jour": start.isoformat(), "activites": uow.count(Activity)}]

        return [ExportKind(name=self.name, description="Essai.", rows=rows)]


def test_export_kinds_collected_offered_by_famille_export_each_name_once(
    cal: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from host_flask import cli

    monkeypatch.setattr(cli, "current_portal", lambda: cal.portal)
    period = ["--from", "2026-11-01", "--to", "2026-11-30"]
    with plugged(cal.portal, Kind("essais")):
        result = CliRunner().invoke(cli.cli, ["export", "essais", *period])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == "jour,activites"
        assert result.output.splitlines()[1].startswith("2026-11-01,")
        assert CliRunner().invoke(cli.cli, ["export", "reservations", *period]).exit_code == 0
    assert CliRunner().invoke(cli.cli, ["export", "essais", *period]).exit_code == 2
    with plugged(cal.portal, Kind("absences")):
        assert isinstance(
            CliRunner().invoke(cli.cli, ["export", "absences", *period]).exception,
            ConfigurationError,
        )


def _enrolment(portal: Portal) -> Enrollment:
    with portal.unit_of_work() as uow:
        enrolment = uow.first(Enrollment)
        assert enrolment is not None
        return enrolment


class Enrolments:
    """Tells the feed of new and ended enrolments (no bundled plugin does)."""

    @hookimpl
    def domain_event_policies(self) -> list[EventPolicy]:
        return [
            EventPolicy(
                entity_type=Enrollment,
                entity="enrolment",
                created=lambda e: FeedEvent(kind="enrolment.created", payload={"end": e.end_date}),
                changed=lambda e, changed: FeedEvent(kind="enrolment.ended", payload={})
                if changed("end_date")
                else None,
            )
        ]


def test_domain_event_policies_collected_read_when_the_storage_is_built(
    demo: Portal, engine: Engine, settings: Settings
) -> None:
    told = build_sql_portal(settings, engine, clock=demo.clock, extra_plugins=[Enrolments()])
    original = _enrolment(told)
    with told.unit_of_work() as uow:
        enrolment = uow.get(Enrollment, original.id)
        assert enrolment is not None
        enrolment.site = "Ailleurs"  # not a change the policy tells
        uow.commit()  # no explicit flush: the commit's own flush still makes the events
    with told.unit_of_work() as uow:
        enrolment = uow.get(Enrollment, original.id)
        assert enrolment is not None
        enrolment.end_date = date(2026, 12, 18)
        uow.add(
            Enrollment(child_id=enrolment.child_id, activity_id=enrolment.activity_id,
                       family_id=enrolment.family_id, start_date=date(2027, 1, 4),
                       end_date=date(2027, 7, 3))
        )  # fmt: skip
        uow.commit()
    with told.unit_of_work() as uow:
        kinds = [(e.kind, e.payload) for e in uow.find(DomainEvent, entity="enrolment", order_by=("id",))]
    system = {"author": {"kind": "system", "id": None, "name": ""}}  # no one acting: the portal
    assert sorted(kinds, key=str) == [
        ("enrolment.created", {"end": "2027-07-03", **system}),
        ("enrolment.ended", system),
    ]
    with demo.unit_of_work() as uow:  # without the policy, the same change tells nothing
        enrolment = uow.get(Enrollment, original.id)
        assert enrolment is not None
        enrolment.end_date = date(2026, 12, 11)
        uow.commit()
    with demo.unit_of_work() as uow:
        assert uow.count(DomainEvent, entity="enrolment") == 2

    class Again(Enrolments):
        pass

    with pytest.raises(ValueError, match="Enrollment"):
        build_sql_portal(settings, engine, extra_plugins=[Enrolments(), Again()])
