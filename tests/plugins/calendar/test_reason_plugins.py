"""The absence reasons: the user guide's nine by default, replaced or extended by a plugin or by
the configuration, and vetoes through ``validate_absence`` — without any change to the core."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pytest

from famille_core import hookimpl
from famille_core.entities import Absence, AbsenceReason
from famille_core.errors import Issue
from famille_plugins.calendar.services.absences import declare_absence
from famille_plugins.calendar.services.reasons import reasons_for
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, refusal

GUIDE = [
    "RAISON MEDICALE",
    "VOYAGE OU SORTIE SCOLAIRE",
    "ABSENCE DE L'ENSEIGNANT",
    "GREVE DU PERSONNEL OU DES ENSEIGNANTS",
    "ACCIDENT DE LA CIRCULATION",
    "PARTICIPATION A UNE SEQUENCE DE SOUTIEN",
    "CAS DE FORCE MAJEURE",
    "CIRCONSTANCES EXCEPTIONNELLES",
    "AUTRES",
]


class TownReasons:
    """A collectivity's plugin: its own list only, and no absence declared on Fridays."""

    @hookimpl(wrapper=True)
    def absence_reasons(
        self, portal: Any, child: Any, activity: Any
    ) -> Generator[None, list[Sequence[AbsenceReason]], list[Sequence[AbsenceReason]]]:
        yield
        return [[AbsenceReason(code="CERTIFICAT", label="CERTIFICAT MEDICAL", billable=False),
                 AbsenceReason(code="CONVENANCE", label="CONVENANCE PERSONNELLE", billable=True)]]

    @hookimpl
    def validate_absence(self, portal: Any, absence: Absence, actor: Any) -> list[Issue]:
        if absence.day.weekday() == 4:
            return [Issue("no_friday", "La mairie n'accepte pas d'absence le vendredi.", "start")]
        return []


@pytest.fixture
def extra_plugins() -> list[object]:
    return [TownReasons()]


def test_plugin_replaces_the_list_and_vetoes(cal: Demo) -> None:
    assert [r.label for r in reasons_for(cal.portal)] == ["CERTIFICAT MEDICAL", "CONVENANCE PERSONNELLE"]
    with cal.portal.unit_of_work() as uow:
        code, _ = refusal(
            lambda: declare_absence(cal.portal, uow, cal.parent, cal.emma, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "MEDICAL")
        )
        assert code == "unknown_reason"
        friday = FIRST_OPEN_DAY.replace(day=20)
        code, message = refusal(
            lambda: declare_absence(cal.portal, uow, cal.parent, cal.emma, friday, friday, "CERTIFICAT")
        )
        assert (code, message) == ("no_friday", "La mairie n'accepte pas d'absence le vendredi.")
        created = declare_absence(cal.portal, uow, cal.parent, cal.emma, FIRST_OPEN_DAY, FIRST_OPEN_DAY, "CONVENANCE", activity_id=cal.cantine)
        assert [(a.reason_label, a.billable) for a in created] == [("CONVENANCE PERSONNELLE", True)]
