"""ERP import and export on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from famille_core import Portal
from famille_core.entities import Child, DomainEvent, Enrollment, Family, Guardian
from famille_core.services.imports import import_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


FAMILIES = """external_id,family_number,name,responsable.last_name,responsable.first_name,responsable.email
ERP-1,1001,LEROY,LEROY,Anne,anne@example.org
ERP-2,1002,GIRARD,GIRARD,Luc,
"""


def _snapshot(portal: Portal) -> list[tuple[object, ...]]:
    with portal.unit_of_work() as uow:
        families = [
            (f.external_id, f.family_number, f.name, f.version)
            for f in uow.find(Family, order_by=("id",))
        ]
        guardians = [
            (g.family_id, g.last_name, g.email, g.version)
            for g in uow.find(Guardian, order_by=("id",))
        ]
    return families + guardians


def test_importing_the_same_file_twice_gives_the_same_rows(portal: Portal, tmp_path: Path) -> None:
    path = _write(tmp_path, "families.csv", FAMILIES)
    first = import_file(portal, "families", path)
    assert first.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    rows = _snapshot(portal)
    second = import_file(portal, "families", path)
    assert second.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert _snapshot(portal) == rows


def test_dry_run_names_each_bad_line_and_field_and_writes_nothing(
    portal: Portal, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "families.csv",
        FAMILIES + "ERP-3,,SANSNUMERO,X,Y,\nERP-4,1001,DOUBLON,Z,W,\n",
    )
    report = import_file(portal, "families", path, dry_run=True)
    assert report.counts["rejected"] == 2
    assert [(e.line, e.field) for e in report.errors] == [
        (4, "family_number"),
        (5, "family_number"),
    ]
    assert "obligatoire" in report.errors[0].message
    assert "autre famille" in report.errors[1].message
    assert _snapshot(portal) == []


def test_children_and_enrolments_link_by_erp_identifiers(demo: Portal, tmp_path: Path) -> None:
    import_file(demo, "families", _write(tmp_path, "f.csv", FAMILIES))
    children = _write(
        tmp_path,
        "c.json",
        '[{"external_id": "ENF-1", "first_name": "Jules", "last_name": "LEROY", "families": ["ERP-1", "ERP-2"]}]',
    )
    assert import_file(demo, "children", children).counts["created"] == 1
    enrolments = _write(
        tmp_path,
        "e.csv",
        "external_id,child,family,activity,start_date,end_date\n"
        "INS-1,ENF-1,ERP-1,CANTINE,2026-09-01,2027-07-05\n"
        "INS-2,ENF-1,ERP-1,PISCINE,2026-09-01,2027-07-05\n"
        "INS-3,ENF-1,ERP-1,CANTINE,2026-09-01,2026-08-01\n",
    )
    report = import_file(demo, "enrolments", enrolments)
    assert report.counts["created"] == 1 and report.counts["rejected"] == 2
    assert {(e.line, e.field) for e in report.errors} == {(3, "activity"), (4, "end_date")}
    with demo.unit_of_work() as uow:
        child = uow.first(Child, external_id="ENF-1")
        assert child is not None
        assert uow.count(Enrollment, child_id=child.id) == 1


def test_import_command_prints_a_summary_and_fails_on_rejected_rows(
    portal: Portal, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from host_flask import cli

    monkeypatch.setattr(cli, "current_portal", lambda: portal)
    path = _write(tmp_path, "families.csv", FAMILIES + "ERP-3,,X,X,Y,\n")
    result = CliRunner().invoke(cli.cli, ["import", "families", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "ligne 4 — family_number : Ce champ est obligatoire." in result.output
    assert (
        "Simulation (rien n'a été écrit) : 2 créé(s), 0 mis à jour, 0 inchangé(s), 1 rejeté(s)."
        in result.output
    )
    result = CliRunner().invoke(
        cli.cli, ["import", "families", str(_write(tmp_path, "ok.csv", FAMILIES))]
    )
    assert result.exit_code == 0, result.output
    assert "Import terminé : 2 créé(s)" in result.output


def test_export_reservations_as_csv(demo: Portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from famille_core.entities import Activity, Reservation, ReservationState
    from famille_core.uow import Between
    from host_flask import cli

    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas")
        cantine = uow.first(Activity, code="CANTINE")
        dupont = uow.first(Family, name="DUPONT")
        for day, state in (
            (date(2026, 11, 17), ReservationState.ACCEPTED),
            (date(2026, 12, 3), ReservationState.REQUESTED),
        ):
            uow.add(
                Reservation(
                    child_id=lucas.id,
                    activity_id=cantine.id,
                    family_id=dupont.id,
                    day=day,
                    state=state,
                    created_at=demo.clock.now(),
                )
            )
        uow.commit()
    monkeypatch.setattr(cli, "current_portal", lambda: demo)
    result = CliRunner().invoke(
        cli.cli,
        ["export", "reservations", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "id,day,family,child,activity,state"
    rows = [line.split(",") for line in lines[1:]]
    with demo.unit_of_work() as uow:
        in_november = uow.find(Reservation, day=Between(date(2026, 11, 1), date(2026, 11, 30)))
    # Exactly the period's reservations (the demo's own and ours), December's left out.
    assert sorted(int(row[0]) for row in rows) == sorted(r.id for r in in_november)
    assert not any(row[1].startswith("2026-12") for row in rows)
    assert [
        "2026-11-17",
        "ERP-694504900001",
        str(lucas.id),
        "CANTINE",
        "accepted",
    ] in [row[1:] for row in rows]
    result = CliRunner().invoke(
        cli.cli,
        ["export", "payments", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"],
    )
    assert result.exit_code == 0 and result.output.startswith("[")


def test_export_shows_formula_like_identifiers_as_typed(demo: Portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """CSV injection (docs/security.md point 15): identifiers sent by an ERP (or typed in it)
    that a spreadsheet would run come out as text in `famille export`."""
    import csv
    import io
    from datetime import date

    from famille_core.entities import Activity, Reservation, ReservationState
    from host_flask import cli

    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas")
        cantine = uow.first(Activity, code="CANTINE")
        dupont = uow.first(Family, name="DUPONT")
        dupont.external_id = "=cmd|' /C calc'!A0"
        lucas.external_id = "\t@SUM(1+1)"
        uow.add(
            Reservation(
                child_id=lucas.id,
                activity_id=cantine.id,
                family_id=dupont.id,
                day=date(2026, 11, 17),
                state=ReservationState.ACCEPTED,
                created_at=demo.clock.now(),
            )
        )
        uow.commit()
    monkeypatch.setattr(cli, "current_portal", lambda: demo)
    result = CliRunner().invoke(
        cli.cli,
        ["export", "reservations", "--from", "2026-11-17", "--to", "2026-11-17", "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert ["2026-11-17", "'=cmd|' /C calc'!A0", "'\t@SUM(1+1)", "CANTINE", "accepted"] in [
        row[1:] for row in rows
    ]


INVOICES = (
    "external_id,family,number,reference,issue_date,due_date,line.label,line.unit_price\n"
    "F-1,ERP-694504900001,99998001,2026-CA-11-0201,2026-11-03,2026-11-30,Cantine,4.15\n"
    "F-2,ERP-694504900001,99998001,2026-CA-11-0202,2026-11-03,2026-11-30,Cantine,4.15\n"
    "F-3,ERP-694504900001,99998003,2026-CA-11-0203,2026-11-03,2026-11-30,Cantine,4.15\n"
)


def test_a_duplicate_invoice_number_in_a_csv_import_is_a_line_numbered_error(
    demo: Portal, tmp_path: Path
) -> None:
    """Finding 17: the whole import stopped on a database traceback, with no line number."""
    from famille_core.entities import Invoice
    from famille_core.uow import In

    path = _write(tmp_path, "invoices.csv", INVOICES)
    report = import_file(demo, "invoices", path, dry_run=True)
    assert [(e.line, e.field) for e in report.errors] == [(3, "number")]
    report = import_file(demo, "invoices", path)
    assert report.counts["created"] == 2 and report.counts["rejected"] == 1
    assert [(e.line, e.field, e.message) for e in report.errors] == [
        (3, "number", "Le numéro de facture 99998001 appartient déjà à une autre facture.")
    ]
    with demo.unit_of_work() as uow:
        assert {i.external_id for i in uow.find(Invoice, number=In(["99998001", "99998003"]))} == {
            "F-1",
            "F-3",
        }


def test_an_import_commits_in_batches_and_reports_lines_across_them(
    portal: Portal, tmp_path: Path
) -> None:
    """A long import holds no transaction open for long (finding 9): each batch is committed
    before the next is read, and the report still names every rejected line."""
    from famille_core.services.imports import import_batches, read_rows

    text = "external_id,family_number,name\n" + "".join(
        f"ERP-{n},{1000 + n},{'' if n == 4 else 'NOM'}\n" for n in range(1, 8)
    )
    rows = read_rows("families", text, "csv")
    visible: list[int] = []

    def after_batch(_rows: int) -> None:
        with portal.unit_of_work() as other:  # another connection sees each batch at once
            visible.append(other.count(Family))

    report = import_batches(portal, "families", rows, progress=after_batch, batch_rows=3)
    assert visible == [3, 5, 6]  # batches of lines 2-4, 5-7 (line 5 rejected), 8
    assert report.counts == {"created": 6, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [(e.line, e.field) for e in report.errors] == [(5, "name")]

    dry = import_batches(portal, "families", rows, dry_run=True, batch_rows=3)
    assert dry.counts["unchanged"] == 6 and [e.line for e in dry.errors] == [5]


def test_a_batch_that_loses_a_race_is_imported_again_once(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from famille_core.errors import Conflict
    from famille_core.services import imports
    from famille_core.services.imports import import_batches, read_rows

    record_class, upsert = imports.UPSERTS["families"]
    raced: list[str] = []

    def upsert_losing_once(uow, record, **batch):  # type: ignore[no-untyped-def]
        if record.external_id == "ERP-2" and not raced:
            raced.append(record.external_id)
            upsert(uow, record, **batch)
            raise Conflict("Une autre demande modifiait les mêmes données au même moment.")
        return upsert(uow, record, **batch)

    monkeypatch.setitem(imports.UPSERTS, "families", (record_class, upsert_losing_once))
    rows = read_rows("families", FAMILIES, "csv")
    report = import_batches(portal, "families", rows, batch_rows=5)
    assert raced == ["ERP-2"]
    assert report.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    with portal.unit_of_work() as uow:
        assert uow.count(Family) == 2


def test_one_file_that_names_a_household_twice_renumbers_and_clashes_gives_each_line_its_outcome(
    portal: Portal, tmp_path: Path
) -> None:
    """Households of a batch are read together and written together: a household created on
    line 2 and changed on line 3 is one household, its second guardian added; a number freed by a
    renumbering on line 4 can be taken on line 5, a number in use cannot (line 6)."""
    path = _write(
        tmp_path,
        "families.csv",
        "external_id,family_number,name,responsable.last_name,responsable.first_name,conjoint.last_name,conjoint.first_name\n"
        "ERP-1,1001,LEROY,LEROY,Anne,,\n"
        "ERP-1,1001,LEROY-MOREL,LEROY,Anne,MOREL,Paul\n"
        "ERP-1,1009,LEROY-MOREL,LEROY,Anne,MOREL,Paul\n"
        "ERP-2,1001,GIRARD,GIRARD,Luc,,\n"
        "ERP-3,1009,FAURE,FAURE,Ines,,\n",
    )
    report = import_file(portal, "families", path)
    assert report.counts == {"created": 2, "updated": 2, "unchanged": 0, "rejected": 1}
    assert [(e.line, e.field) for e in report.errors] == [(6, "family_number")]
    with portal.unit_of_work() as uow:
        families = {f.external_id: f for f in uow.find(Family)}
        assert sorted(families) == ["ERP-1", "ERP-2"]
        leroy = families["ERP-1"]
        assert (leroy.family_number, leroy.name) == ("1009", "LEROY-MOREL")
        assert families["ERP-2"].family_number == "1001"
        assert sorted(g.last_name for g in uow.find(Guardian, family_id=leroy.id)) == ["LEROY", "MOREL"]
    again = import_file(portal, "families", path, dry_run=True)
    assert [e.line for e in again.errors] == [2, 3, 6]  # 1001 is GIRARD's now; 1009 LEROY's


def test_households_written_together_are_each_in_the_event_feed(portal: Portal, tmp_path: Path) -> None:
    """An import writes its new households, then their guardians, one ``INSERT`` each
    (``uow.add_many``), not through the ORM's flush: each record still has its
    ``profile.created`` event, with its id and household, in the file's order, and a household
    changed by a later line of the same file has its ``profile.changed`` (its version checked)."""
    path = _write(
        tmp_path,
        "families.csv",
        "external_id,family_number,name,responsable.last_name,responsable.first_name\n"
        "ERP-1,1001,LEROY,LEROY,Anne\n"
        "ERP-2,1002,GIRARD,GIRARD,Luc\n"
        "ERP-1,1001,LEROY-MOREL,LEROY,Anne\n",
    )
    report = import_file(portal, "families", path)
    assert report.counts == {"created": 2, "updated": 1, "unchanged": 0, "rejected": 0}
    with portal.unit_of_work() as uow:
        leroy, girard = (uow.first(Family, external_id=erp) for erp in ("ERP-1", "ERP-2"))
        assert leroy is not None and girard is not None
        assert (leroy.name, leroy.version) == ("LEROY-MOREL", 2)
        anne, luc = (uow.first(Guardian, family_id=f.id) for f in (leroy, girard))
        assert anne is not None and luc is not None
        feed = [
            (event.kind, event.entity, event.entity_id, event.family_id)
            for event in uow.find(DomainEvent, order_by=("id",))
        ]
    assert feed == [
        ("profile.created", "family", leroy.id, leroy.id),
        ("profile.created", "family", girard.id, girard.id),
        ("profile.created", "guardian", anne.id, leroy.id),
        ("profile.created", "guardian", luc.id, girard.id),
        ("profile.changed", "family", leroy.id, leroy.id),
    ]


def test_an_import_bumps_the_pages_of_its_households_only(portal: Portal, tmp_path: Path) -> None:
    """docs/deployment.md, "Fast pages": the households an import writes together
    (``uow.add_many``) have their page versions bumped as the ORM's flush would — a new
    household once (its guardian), a changed one once — and the version of every other page
    stays, on SQLite and on PostgreSQL alike (their pages stay cached during an ERP import)."""
    from famille_core.persistence import page_versions

    header = "external_id,family_number,name,responsable.last_name,responsable.first_name\n"
    import_file(portal, "families", _write(tmp_path, "first.csv", header + "ERP-0,1000,ROUX,ROUX,Paul\n"))

    def versions(external_id: str) -> tuple[int, int]:
        with portal.unit_of_work() as uow:
            household = uow.first(Family, external_id=external_id)
            assert household is not None and household.id is not None
            return page_versions.read(uow.session, household.id)  # type: ignore[attr-defined]

    roux, everything = versions("ERP-0")
    report = import_file(
        portal,
        "families",
        _write(
            tmp_path,
            "families.csv",
            header + "ERP-1,1001,LEROY,LEROY,Anne\nERP-2,1002,GIRARD,GIRARD,Luc\nERP-0,1000,ROUX-PETIT,ROUX,Paul\n",
        ),
    )
    assert report.counts == {"created": 2, "updated": 1, "unchanged": 0, "rejected": 0}
    assert versions("ERP-0") == (roux + 1, everything)
    assert versions("ERP-1") == (1, everything)
    assert versions("ERP-2") == (1, everything)


def test_a_batchs_many_events_are_each_in_the_feed_in_order(portal: Portal, tmp_path: Path) -> None:
    """A batch's events past ``COPY_ROWS`` reach PostgreSQL by one ``COPY``
    (famille_core/persistence/events.py): each household and guardian still has its
    ``profile.created`` event, in the file's order, dated, with what it holds and its author."""
    from famille_core.feed import SYSTEM_AUTHOR
    from famille_core.persistence.events import COPY_ROWS

    count = COPY_ROWS  # twice as many events: households, then their guardians
    lines = "".join(f"ERP-{i},{2000 + i},NOM{i},NOM{i},Prénom « {i} »\n" for i in range(count))
    header = "external_id,family_number,name,responsable.last_name,responsable.first_name\n"
    report = import_file(portal, "families", _write(tmp_path, "families.csv", header + lines))
    assert report.counts["created"] == count
    with portal.unit_of_work() as uow:
        families = [uow.first(Family, external_id=f"ERP-{i}") for i in range(count)]
        guardians = [uow.first(Guardian, family_id=f.id) for f in families if f is not None]
        events = uow.find(DomainEvent, order_by=("id",))
    assert [(e.entity, e.entity_id, e.family_id) for e in events] == [
        ("family", f.id, f.id) for f in families if f is not None
    ] + [("guardian", g.id, g.family_id) for g in guardians if g is not None]
    last = events[-1]
    assert last.kind == "profile.created" and last.at == portal.clock.now()
    new_name = {"field": "first_name", "sensitive": False, "old": None, "new": f"Prénom « {count - 1} »"}
    assert new_name in last.payload["changes"]
    assert last.payload["author"] == SYSTEM_AUTHOR.as_payload()
