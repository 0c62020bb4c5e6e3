"""Plugins are enabled by name and fail fast when missing or wrong."""

from __future__ import annotations

import pytest

from famille_core import ConfigurationError, build_portal, hookimpl, settings_from_mapping
from famille_core.plugins import installed_plugins, make_plugin_manager


def _portal(plugins: list[str], extra: list[object] = ()):  # type: ignore[assignment]
    settings = settings_from_mapping({"portal": {"plugins": plugins}})
    return build_portal(settings, uow_factory=lambda: None, extra_plugins=extra)


def _reasons(portal) -> list[str]:  # type: ignore[no-untyped-def]
    results = portal.hook.absence_reasons(portal=portal, child=None, activity=None)
    return [reason.label for result in results for reason in result]


def test_bundled_plugins_are_announced_as_entry_points() -> None:
    assert {"profile", "inbox", "calendar", "billing", "tipi_payment"} <= set(installed_plugins())


def test_enabled_plugin_that_is_not_installed_stops_start_up() -> None:
    with pytest.raises(ConfigurationError) as error:
        make_plugin_manager(["calendar", "cantine_magique"])
    assert "cantine_magique" in str(error.value)
    assert "n'est pas installé" in str(error.value)


def test_plugin_with_misspelt_hook_stops_start_up() -> None:
    class Misspelt:
        @hookimpl
        def absense_reasons(self, portal):  # type: ignore[no-untyped-def]
            return []

    with pytest.raises(ConfigurationError) as error:
        make_plugin_manager([], extra=[Misspelt()])
    assert "absense_reasons" in str(error.value)
    assert "hook inconnu" in str(error.value)


def test_plugin_with_unknown_hook_argument_stops_start_up() -> None:
    class WrongArgs:
        @hookimpl
        def absence_reasons(self, portal, child, activity, colour):  # type: ignore[no-untyped-def]
            return []

    with pytest.raises(ConfigurationError) as error:
        make_plugin_manager([], extra=[WrongArgs()])
    assert "colour" in str(error.value)


def test_plugin_enabled_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="deux fois"):
        make_plugin_manager(["inbox", "inbox"])


def test_external_example_plugin_is_loaded_by_name_and_adds_a_reason() -> None:
    without = _reasons(_portal(["calendar"]))
    with_plugin = _reasons(_portal(["calendar", "extra_reasons"]))
    assert "RENDEZ-VOUS MEDICAL PROGRAMME" not in without
    assert "RENDEZ-VOUS MEDICAL PROGRAMME" in with_plugin
    assert set(without) < set(with_plugin)
    assert len(without) == 9


def test_default_reasons_are_the_nine_of_the_user_guide_in_order() -> None:
    assert _reasons(_portal([])) == [
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


def test_each_portal_has_its_own_plugin_manager() -> None:
    first, second = _portal(["inbox"]), _portal(["calendar"])
    assert first.pm is not second.pm
    assert first.is_enabled("inbox") and not first.is_enabled("calendar")
    assert second.is_enabled("calendar") and not second.is_enabled("inbox")


def test_plugin_settings_are_validated_at_start_up() -> None:
    from attrs import frozen

    @frozen
    class CantineSettings:
        max_per_day: int = 3

    class WithSettings:
        @hookimpl
        def plugin_settings(self):  # type: ignore[no-untyped-def]
            return ("cantine", CantineSettings)

    good = settings_from_mapping(
        {"portal": {"plugins": []}, "plugins": {"cantine": {"max_per_day": 5}}}
    )
    portal = build_portal(good, uow_factory=lambda: None, extra_plugins=[WithSettings()])
    assert portal.config_for("cantine") == CantineSettings(max_per_day=5)

    bad = settings_from_mapping(
        {"portal": {"plugins": []}, "plugins": {"cantine": {"max_per_day": "beaucoup"}}}
    )
    with pytest.raises(ConfigurationError) as error:
        build_portal(bad, uow_factory=lambda: None, extra_plugins=[WithSettings()])
    assert "plugins.cantine.max_per_day" in str(error.value)
