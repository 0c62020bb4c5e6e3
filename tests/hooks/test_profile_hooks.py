"""The profile's hooks, through the profile's services: extra fields of every plugin, and every
plugin's veto before a change is saved."""

from __future__ import annotations

from typing import Any

import pytest

from famille_core import Issue, Portal, ValidationFailed, hookimpl
from famille_core.entities import Guardian, GuardianRole
from famille_core.hooks.results import ProfileField
from famille_plugins.profile.services.changes import update_section
from famille_plugins.profile.services.sections import section_specs
from tests.hooks.conftest import plugged
from tests.plugins.calendar.conftest import Demo


class Field:
    def __init__(self, name: str, required: bool = False) -> None:
        self.name, self.required = name, required

    @hookimpl
    def profile_fields(self, section: str) -> list[ProfileField]:
        if section != "conjoint":
            return []
        return [ProfileField(name=self.name, label=f"Champ {self.name}", required=self.required)]


class Rule:
    def __init__(self, code: str | None) -> None:
        self.code = code
        self.seen: list[dict[str, Any]] = []

    @hookimpl
    def validate_profile_change(self, section: str, changes: dict[str, Any]) -> list[Issue]:
        self.seen.append(changes)
        return [Issue(self.code, f"Refusé ({self.code}).", "last_name")] if self.code else []


def _conjoint(portal: Portal, family_id: int) -> Guardian:
    with portal.unit_of_work() as uow:
        found = uow.first(Guardian, family_id=family_id, role=GuardianRole.SECOND)
        assert found is not None
        return found


def _change(cal: Demo, **fields: str) -> None:
    version = _conjoint(cal.portal, cal.family_id).version
    with cal.portal.unit_of_work() as uow:
        update_section(cal.portal, uow, cal.parent, "conjoint", fields, version)
        uow.commit()


def test_profile_fields_collected_every_plugins_fields_follow_the_built_in_ones(cal: Demo) -> None:
    built_in = [spec.name for spec in section_specs(cal.portal, "conjoint")]
    fiscal = section_specs(cal.portal, "fiscal")
    with plugged(cal.portal, Field("badge"), Field("employeur_code", required=True)):
        names = [spec.name for spec in section_specs(cal.portal, "conjoint")]
        assert names == [*built_in, "extra_employeur_code", "extra_badge"]
        assert section_specs(cal.portal, "fiscal") == fiscal  # asked per section
        with pytest.raises(ValidationFailed) as refused:
            _change(cal, last_name="DUPONT", first_name="Jean")
    assert [(i.field, i.code) for i in refused.value.issues] == [("extra_employeur_code", "required")]


def test_validate_profile_change_collected_every_plugins_veto_and_only_after_the_own_checks(
    cal: Demo,
) -> None:
    quiet, town, school = Rule(None), Rule("mairie"), Rule("ecole")
    with plugged(cal.portal, quiet, town, school):
        with pytest.raises(ValidationFailed) as invalid:
            _change(cal, last_name="", first_name="Jean")  # the plugin's own check refuses
        assert quiet.seen == []  # the hook is not asked about a change already refused
        with pytest.raises(ValidationFailed) as refused:
            _change(cal, last_name="MARTIN", first_name="Jean")
    assert {i.code for i in invalid.value.issues} == {"required"}
    assert [i.code for i in refused.value.issues] == ["ecole", "mairie"]
    assert quiet.seen[0]["last_name"] == "MARTIN"
    assert _conjoint(cal.portal, cal.family_id).last_name == "DUPONT"
    with plugged(cal.portal, quiet):
        _change(cal, last_name="MARTIN", first_name="Jean")
    assert _conjoint(cal.portal, cal.family_id).last_name == "MARTIN"
