"""``purge_child_data``, through ``famille purge``'s service: every plugin is asked, in the
purge's transaction, before the core clears what it keeps itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from famille_core import Portal, hookimpl
from famille_core.clock import today_in_paris
from famille_core.entities import Activity, Child, Enrollment, Family, FamilyChild, HealthRecord
from famille_core.services.retention import purge
from tests.hooks.conftest import plugged


class Files:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    @hookimpl
    def purge_child_data(self, uow: Any, child: Child) -> None:
        self.asked.append((child.first_name, child.photo_key))  # the photo's key still known


def _left_long_ago(portal: Portal) -> int:
    today = today_in_paris(portal.clock)
    with portal.unit_of_work() as uow:
        family, activity = Family(family_number="F1", name="DUPONT"), Activity(code="C", label="C")
        child = Child(first_name="Lea", last_name="DUPONT", photo_key="photos/lea.jpg")
        uow.add(family)
        uow.add(activity)
        uow.add(child)
        uow.flush()
        uow.add(FamilyChild(family_id=family.id, child_id=child.id))
        uow.add(HealthRecord(child_id=child.id, food_allergies="arachide"))
        end = today - timedelta(days=400)
        uow.add(Enrollment(child_id=child.id, activity_id=activity.id, family_id=family.id,
                           start_date=end - timedelta(days=300), end_date=end))  # fmt: skip
        uow.commit()
        assert child.id is not None
        return child.id


def test_purge_child_data_collected_every_plugin_asked_in_the_purges_transaction(
    portal: Portal,
) -> None:
    child_id = _left_long_ago(portal)
    first, second = Files(), Files()
    with plugged(portal, first, second):
        with portal.unit_of_work() as uow:
            purge(portal, uow, today_in_paris(portal.clock), dry_run=True)
        assert first.asked == second.asked == []  # a dry run asks nobody
        with portal.unit_of_work() as uow:
            purge(portal, uow, today_in_paris(portal.clock))
            uow.rollback()  # a failed purge: the plugins must not have deleted anything yet
        assert first.asked == second.asked == [("Lea", "photos/lea.jpg")]
        with portal.unit_of_work() as uow:
            assert uow.get(Child, child_id).photo_key == "photos/lea.jpg"  # type: ignore[union-attr]
            purge(portal, uow, today_in_paris(portal.clock))
            uow.commit()
    with portal.unit_of_work() as uow:
        assert uow.get(Child, child_id).photo_key is None  # type: ignore[union-attr]
        assert uow.find(HealthRecord, child_id=child_id) == []
