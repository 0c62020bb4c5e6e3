"""Retention (docs/security.md point 28): `famille purge` removes health data and photos once a
child's enrolments have ended, and keeps what public accounting needs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from famille_core import Portal, hookimpl
from famille_core.clock import today_in_paris
from famille_core.entities import (
    Activity,
    AuditRecord,
    Child,
    Enrollment,
    Family,
    FamilyChild,
    HealthRecord,
    Invoice,
)
from famille_core.services.retention import purge

purged_by_plugin: list[int] = []


class PhotoStore:
    """Stands for a plugin keeping photo files: it is asked to delete them."""

    @hookimpl
    def purge_child_data(self, child: Child) -> None:
        assert child.id is not None
        purged_by_plugin.append(child.id)


@pytest.fixture
def extra_plugins() -> list[object]:
    purged_by_plugin.clear()
    return [PhotoStore()]


def _child_enrolled_until(uow, family: Family, activity: Activity, name: str, end: date) -> Child:  # type: ignore[no-untyped-def]
    child = Child(first_name=name, last_name="DUPONT", photo_key=f"photos/{name}.jpg")
    uow.add(child)
    uow.flush()
    uow.add(FamilyChild(family_id=family.id, child_id=child.id))
    uow.add(HealthRecord(child_id=child.id, food_allergies="arachide"))
    uow.add(
        Enrollment(
            child_id=child.id,
            activity_id=activity.id,
            family_id=family.id,
            start_date=end - timedelta(days=300),
            end_date=end,
        )
    )
    return child


@pytest.fixture
def children(portal: Portal) -> dict[str, int]:
    today = today_in_paris(portal.clock)
    with portal.unit_of_work() as uow:
        family = Family(family_number="F1", name="DUPONT")
        activity = Activity(code="CANT", label="Cantine")
        uow.add(family)
        uow.add(activity)
        uow.flush()
        left = _child_enrolled_until(uow, family, activity, "Lea", today - timedelta(days=91))
        recent = _child_enrolled_until(uow, family, activity, "Tom", today - timedelta(days=30))
        current = _child_enrolled_until(uow, family, activity, "Zoe", today + timedelta(days=200))
        never = Child(first_name="Noe", last_name="DUPONT", photo_key="photos/noe.jpg")
        uow.add(never)
        uow.flush()
        uow.add(HealthRecord(child_id=never.id))
        uow.add(
            Invoice(
                family_id=family.id,
                number="1",
                reference="R1",
                issue_date=today - timedelta(days=120),
                due_date=today - timedelta(days=90),
                total=Decimal("42.50"),
            )
        )
        uow.commit()
        return {"left": left.id, "recent": recent.id, "current": current.id, "never": never.id}


def test_purge_removes_health_and_photo_after_retention_only(
    portal: Portal, children: dict[str, int]
) -> None:
    with portal.unit_of_work() as uow:
        report = purge(portal, uow, today_in_paris(portal.clock))
        uow.commit()
    assert report.children == (children["left"],)
    assert (report.health_records, report.photos) == (1, 1)
    assert purged_by_plugin == [children["left"]]
    with portal.unit_of_work() as uow:
        left = uow.get(Child, children["left"])
        assert left.photo_key is None
        assert uow.count(HealthRecord, child_id=children["left"]) == 0
        # Still enrolled, recently left (within 90 days), never enrolled: kept.
        for name in ("recent", "current", "never"):
            assert uow.count(HealthRecord, child_id=children[name]) == 1
            assert uow.get(Child, children[name]).photo_key is not None
        # Public accounting: the child, its enrolment and the invoice stay.
        assert left.first_name == "Lea"
        assert uow.count(Enrollment, child_id=children["left"]) == 1
        assert uow.count(Invoice) == 1
        audit = uow.find(AuditRecord, action="purge")
        assert [(a.record_type, a.record_id) for a in audit] == [("child", children["left"])]


def test_dry_run_reports_and_changes_nothing(portal: Portal, children: dict[str, int]) -> None:
    with portal.unit_of_work() as uow:
        report = purge(portal, uow, today_in_paris(portal.clock), dry_run=True)
        uow.commit()
    assert report.children == (children["left"],)
    assert purged_by_plugin == []
    with portal.unit_of_work() as uow:
        assert uow.count(HealthRecord) == 4
        assert uow.get(Child, children["left"]).photo_key is not None
        assert uow.count(AuditRecord) == 0


def test_running_twice_purges_nothing_more(portal: Portal, children: dict[str, int]) -> None:
    for _ in range(2):
        with portal.unit_of_work() as uow:
            report = purge(portal, uow, today_in_paris(portal.clock))
            uow.commit()
    assert report.children == ()


def _phone_change(portal: Portal, phone: str) -> int:
    """A guardian's mobile phone changed (as the profile forms do): the feed's event id."""
    from famille_core.entities import DomainEvent, Guardian

    with portal.unit_of_work() as uow:
        guardian = uow.first(Guardian, email="parent@example.org")
        assert guardian is not None
        guardian.phone_mobile = phone
        uow.commit()
        return max(e.id or 0 for e in uow.find(DomainEvent, entity="guardian"))


def _changes(portal: Portal, event_id: int) -> list[dict[str, object]]:
    from famille_core.entities import DomainEvent
    from famille_core.feed import event_document

    with portal.unit_of_work() as uow:
        event = uow.get(DomainEvent, event_id)
        assert event is not None
        return [c for c in event_document(event)["changes"] if c["field"] == "phone_mobile"]


def test_the_feed_forgets_old_and_new_values_after_retention_and_keeps_what_changed(
    demo: Portal,
) -> None:
    """An address or a phone stays in the feed ``feed_values_retention_days`` (30): long enough
    for an ERP to read it, not for ever; which field changed, and who changed it, stay."""
    old_event = _phone_change(demo, "07 11 11 11 11")
    assert _changes(demo, old_event)[0]["new"] == "07 11 11 11 11"
    demo.clock.advance(timedelta(days=29))  # type: ignore[attr-defined]
    recent_event = _phone_change(demo, "07 22 22 22 22")
    demo.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    today = today_in_paris(demo.clock)
    with demo.unit_of_work() as uow:
        assert purge(demo, uow, today, dry_run=True).event_values >= 1
    assert _changes(demo, old_event)[0]["new"] == "07 11 11 11 11"  # a dry run changes nothing
    with demo.unit_of_work() as uow:
        report = purge(demo, uow, today)
        uow.commit()
    assert report.event_values >= 1
    assert _changes(demo, old_event) == [
        {"field": "phone_mobile", "sensitive": False, "old": None, "new": None, "purged": True}
    ]
    assert _changes(demo, recent_event)[0] == {
        "field": "phone_mobile", "sensitive": False, "old": "07 11 11 11 11", "new": "07 22 22 22 22"
    }  # fmt: skip
    # A month later the next pass starts where this one stopped and blanks the newer event too.
    demo.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    with demo.unit_of_work() as uow:
        assert purge(demo, uow, today_in_paris(demo.clock)).event_values == 1
        uow.commit()
    assert _changes(demo, recent_event)[0]["purged"] is True
    with demo.unit_of_work() as uow:
        assert purge(demo, uow, today_in_paris(demo.clock)).event_values == 0
