"""The demo data (``famille demo``): the core creates what every portal has, each plugin adds its
own through ``populate_demo`` — so a portal without a plugin holds none of that plugin's data,
and the bundled plugins together give the demo of the user guide."""

from __future__ import annotations

from typing import Any

import pytest

from famille_core import Portal
from famille_core.demo import DEMO_LOGINS, populate
from famille_core.entities import (
    Absence,
    Activity,
    Attachment,
    Attendance,
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    Child,
    ChildDetails,
    Enrollment,
    Family,
    FiscalData,
    Guardian,
    HealthRecord,
    Invoice,
    InvoiceLine,
    Message,
    Reservation,
    Thread,
    User,
)

CORE = {Activity: 4, Family: 4, Guardian: 5, Child: 4, Enrollment: 10, User: len(DEMO_LOGINS) + 1}  # PETIT invited
PROFILE = {
    FiscalData: 1, CafInfo: 1, BankDetails: 1, ChildDetails: 4, HealthRecord: 4,
    AuthorizedPerson: 1,
}
CALENDAR = {Reservation: 5, Absence: 1, Attendance: 2}
BILLING = {Invoice: 5, InvoiceLine: 7}
INBOX = {Thread: 2, Message: 3, Attachment: 1}
PLUGINS = {"profile": PROFILE, "calendar": CALENDAR, "billing": BILLING, "inbox": INBOX}


@pytest.fixture(
    params=[
        (), ("profile",), ("calendar",), ("billing",), ("inbox",),
        ("profile", "inbox", "calendar", "billing"),
    ],
    ids=str,
)
def settings_data(request: pytest.FixtureRequest, settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "portal": {**settings_data["portal"], "plugins": list(request.param)}}


def _counts(portal: Portal, kinds: dict[type, int]) -> dict[type, int]:
    with portal.unit_of_work() as uow:
        return {kind: uow.count(kind) for kind in kinds}


def test_each_plugin_adds_its_own_demo_data(portal: Portal) -> None:
    with portal.unit_of_work() as uow:
        assert populate(portal, uow) == DEMO_LOGINS
        uow.commit()
    enabled = set(portal.settings.portal.plugins)
    assert _counts(portal, CORE) == CORE
    for plugin, expected in PLUGINS.items():
        assert _counts(portal, expected) == (expected if plugin in enabled else dict.fromkeys(expected, 0)), plugin
    if "profile" in enabled:
        with portal.unit_of_work() as uow:
            emma = uow.first(Child, first_name="Emma")
            assert emma is not None
            health = uow.first(HealthRecord, child_id=emma.id)
            assert health is not None and health.has_pai and health.food_allergies == "Arachide"
    if "inbox" in enabled:
        with portal.unit_of_work() as uow:
            messages = uow.find(Message)
            assert [m.read_at is None for m in messages].count(True) == 1  # one unread
            assert any(m.author_label.startswith("Mairie") for m in messages)  # one from the town


def test_the_demo_is_created_once(portal: Portal) -> None:
    for _ in range(2):
        with portal.unit_of_work() as uow:
            populate(portal, uow)
            uow.commit()
    everything = {**CORE, **PROFILE, **CALENDAR, **BILLING, **INBOX}
    enabled = set(portal.settings.portal.plugins)
    expected = dict(CORE)
    for plugin, kinds in PLUGINS.items():
        expected |= kinds if plugin in enabled else dict.fromkeys(kinds, 0)
    assert _counts(portal, everything) == expected
